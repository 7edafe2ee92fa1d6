#pragma once

// The words of report exports (R4) in the three languages of the product: titles, column
// headers, figure names and the PDF page label. One struct per language so that a missing
// translation is a compile error, not an English word in a Thai file.

#include <string>

#include "absl/strings/string_view.h"
#include "kelola/report/v1/reports.pb.h"
#include "kelola/report/v1/summary_card.pb.h"

namespace kelola::report::app {

struct ExportLabels {
  // PDF furniture and filters.
  const char* page;
  const char* generated;
  const char* data_as_of;
  const char* period;
  const char* time_zone;
  const char* category;
  const char* store;
  const char* all;
  const char* overdue_only;
  const char* order;
  const char* filter;
  const char* no_rows;
  const char* yes;
  const char* no;
  const char* total;

  // Titles.
  const char* customer_report_title;
  const char* receivables_title;

  // Columns.
  const char* customer_id;
  const char* customer;
  const char* phone;
  const char* whatsapp;
  const char* balance;
  const char* age_0_to_30;
  const char* age_31_to_60;
  const char* age_61_to_90;
  const char* age_over_90;
  const char* overdue;
  const char* days_overdue;
  const char* oldest_open_sale;
  const char* last_payment;
  const char* segment;
  const char* recency_days;
  const char* frequency;
  const char* monetary;
  const char* total_spent;
  const char* first_purchase;
  const char* last_purchase;
  const char* marketing_consent;
  const char* item;
  const char* rank;
  const char* value;
  const char* transactions;
  const char* start_date;
  const char* end_date;

  // Figures of the customer report.
  const char* total_customers;
  const char* new_customers;
  const char* active_customers;
  const char* total_sales;
  const char* transaction_count;
  const char* average_customer_value;
  const char* average_order_value;
  const char* purchase_frequency;
  const char* top_customer;
};

// `language` is "id", "th" or "en"; anything else gets English.
const ExportLabels& LabelsFor(absl::string_view language);

// Title of an insight list, e.g. "Pengingat Pembayaran".
std::string InsightTitle(v1::InsightKind kind, absl::string_view language);
// A segment's name, e.g. "Pelanggan terbaik"; empty for UNSPECIFIED.
std::string SegmentName(v1::CustomerSegment segment, absl::string_view language);
// A metric's name ("Penjualan") and a granularity's ("Bulanan").
std::string MetricName(v1::SeriesMetric metric, absl::string_view language);
std::string GranularityName(v1::Granularity granularity, absl::string_view language);

}  // namespace kelola::report::app
