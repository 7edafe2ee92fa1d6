#pragma once

// The recomputation of report-svc's tenant-wide reports (R2 customer report, R3 receivables,
// R5 insights, R6 series) from what ledger-svc and customer-svc themselves answer, by the
// rules of docs/reports.md "Definitions of the tenant-wide reports". Plain functions over
// plain facts, written from the contract and the definitions only, never from report-svc's
// code: the oracle of tests/report-svc/integration/report_oracle_test.cc.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "kelola/report/v1/reports.pb.h"

namespace kelola::testing::oracle {

// One customer as customer-svc answers now.
struct Customer {
  std::string customer_id;
  std::string display_name;  // empty once erased
  std::string phone_e164;    // primary phone, empty if none or erased
  std::string category_id;   // as of now
  absl::Time create_time;
  bool exists = false;  // active or archived: not deleted, merged away or erased
  bool marketing_consent = false;
  int64_t ledger_version = 0;  // GetCustomerLedgerStats
};

// One sale as ListSales (FULL view) answers now.
struct Sale {
  std::string sale_id;
  std::string customer_id;  // the owner now (the survivor after a merge); empty: walk-in
  std::string store_id;
  absl::Time sale_time;
  bool voided = false;
  int64_t net_total = 0;
  int64_t outstanding = 0;
  std::optional<absl::CivilDay> due_date;
};

// One payment as ListPayments answers now.
struct Payment {
  std::string customer_id;
  absl::Time received_time;
  bool voided = false;
};

// A change of one sale's outstanding amount, dated when it took effect in the shop.
struct OutstandingChange {
  std::string sale_id;
  absl::Time effective_time;
  int64_t delta = 0;
};

// Everything known about one tenant.
struct Facts {
  std::string time_zone_name;
  absl::TimeZone zone;
  std::string currency;
  std::map<std::string, Customer> customers;  // by id
  std::vector<Sale> sales;
  std::vector<Payment> payments;
  std::vector<OutstandingChange> changes;
};

// The optional category and store filters of a report.
struct Scope {
  std::string category_id;
  std::string store_id;
};

// R2 for [start, end], without data_as_of_time.
report::v1::CustomerReport ExpectedCustomerReport(const Facts& facts, const Scope& scope,
                                                  absl::CivilDay start, absl::CivilDay end,
                                                  int top_customers_limit);

// R3: every matching row in `order_by` (the contract's strings; empty = "balance desc"),
// with the totals, on day `today`.
struct Receivables {
  std::vector<report::v1::ReceivablesReportRow> rows;
  report::v1::ReceivablesTotals totals;
};
Receivables ExpectedReceivables(const Facts& facts, const Scope& scope, bool overdue_only,
                                const std::string& order_by, absl::CivilDay today);

// R6: every bucket from start's bucket to end's, on day `today`.
std::vector<report::v1::SeriesPoint> ExpectedSeries(const Facts& facts, const Scope& scope,
                                                    report::v1::SeriesMetric metric,
                                                    report::v1::Granularity granularity,
                                                    absl::CivilDay start, absl::CivilDay end,
                                                    absl::CivilDay today);

// R5: the customers of list `kind` in the kind's default order, on day `today`.
std::vector<report::v1::CustomerInsight> ExpectedInsights(const Facts& facts,
                                                          report::v1::InsightKind kind,
                                                          absl::CivilDay today);

// A readable list of the differences between `expected` and `actual` (same type), ignoring
// the named top-level fields; empty when equal.
std::string Diff(const google::protobuf::Message& expected, const google::protobuf::Message& actual,
                 const std::vector<std::string>& ignored_fields = {});

}  // namespace kelola::testing::oracle
