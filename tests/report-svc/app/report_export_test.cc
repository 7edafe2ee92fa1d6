// ExportReport (R4) rendered from a fake Reports port: exact CSV bytes (BOM, CRLF, quoting,
// formula neutralization, formatted and plain amounts), paging through the port, the
// stream's first and last messages, chunk sizes, PDF output with Thai text, validation,
// the per-tenant concurrency limit, a client that goes away, and the port's errors.

#include "report-svc/app/report_export.h"

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/errors/errors.h"
#include "report-svc/app/reports.h"

namespace kelola::report::app {
namespace {

using ::testing::Test;

constexpr char kBom[] = "\xEF\xBB\xBF";

type::v1::Money Money(int64_t minor, const char* currency) {
  type::v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency_code(currency);
  return m;
}
type::v1::Money Idr(int64_t minor) { return Money(minor, "IDR"); }
type::v1::Money Thb(int64_t minor) { return Money(minor, "THB"); }

type::v1::Date Day(int y, int m, int d) {
  type::v1::Date date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// A Reports port answering with whatever the test sets; records the requests it saw.
class FakeReports final : public Reports {
 public:
  using CustomerFn = std::function<absl::StatusOr<v1::GetCustomerReportResponse>(
      const v1::GetCustomerReportRequest&)>;
  using ReceivablesFn = std::function<absl::StatusOr<v1::GetReceivablesReportResponse>(
      const std::string&, const v1::GetReceivablesReportRequest&)>;
  using InsightsFn = std::function<absl::StatusOr<v1::ListCustomerInsightsResponse>(
      const v1::ListCustomerInsightsRequest&)>;
  using SeriesFn =
      std::function<absl::StatusOr<v1::GetSeriesResponse>(const v1::GetSeriesRequest&)>;

  absl::StatusOr<v1::GetCustomerReportResponse> GetCustomerReport(
      const std::string&, const v1::GetCustomerReportRequest& request, absl::Time) override {
    return customer(request);
  }
  absl::StatusOr<v1::GetReceivablesReportResponse> GetReceivablesReport(
      const std::string& tenant_id, const v1::GetReceivablesReportRequest& request,
      absl::Time) override {
    {
      absl::MutexLock lock(&mu);
      receivables_requests.push_back(request);
    }
    return receivables(tenant_id, request);
  }
  absl::StatusOr<v1::ListCustomerInsightsResponse> ListCustomerInsights(
      const std::string&, const v1::ListCustomerInsightsRequest& request, absl::Time) override {
    return insights(request);
  }
  absl::StatusOr<v1::GetSeriesResponse> GetSeries(const std::string&,
                                                  const v1::GetSeriesRequest& request,
                                                  absl::Time) override {
    return series(request);
  }

  int receivables_calls() {
    absl::MutexLock lock(&mu);
    return static_cast<int>(receivables_requests.size());
  }

  CustomerFn customer;
  ReceivablesFn receivables;
  InsightsFn insights;
  SeriesFn series;
  absl::Mutex mu;
  std::vector<v1::GetReceivablesReportRequest> receivables_requests ABSL_GUARDED_BY(mu);
};

// The messages of one export and the file they make.
struct Output {
  std::vector<v1::ExportReportResponse> messages;
  std::string file;

  ReportExporter::WriteFn Writer() {
    return [this](const v1::ExportReportResponse& message) {
      messages.push_back(message);
      file += message.chunk();
      return absl::OkStatus();
    };
  }
  // The file without its BOM, split into lines at CRLF (the last, empty piece dropped).
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines =
        absl::StrSplit(absl::StripPrefix(file, kBom), "\r\n", absl::AllowEmpty());
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
  }
};

v1::ReceivablesReportRow Row(const std::string& id, const std::string& name, int64_t balance) {
  v1::ReceivablesReportRow row;
  row.set_customer_id(id);
  row.set_display_name(name);
  *row.mutable_balance() = Idr(balance);
  *row.mutable_aging()->mutable_age_0_to_30_days() = Idr(balance);
  *row.mutable_aging()->mutable_age_31_to_60_days() = Idr(0);
  *row.mutable_aging()->mutable_age_61_to_90_days() = Idr(0);
  *row.mutable_aging()->mutable_age_over_90_days() = Idr(0);
  *row.mutable_overdue_amount() = Idr(0);
  *row.mutable_oldest_open_sale_date() = Day(2024, 5, 30);
  return row;
}

// Two customers: one with a quote and a comma in the name and a phone, one whose name
// looks like a formula, owing half a rupiah.
v1::GetReceivablesReportResponse SmallReceivables(bool thai_baht = false) {
  auto money = [thai_baht](int64_t minor) { return thai_baht ? Thb(minor) : Idr(minor); };
  v1::GetReceivablesReportResponse r;
  auto* a = r.add_rows();
  a->set_customer_id("c1");
  a->set_display_name("Siti \"Ani\", Toko");
  a->set_phone_e164("+6281234567890");
  *a->mutable_balance() = money(123456700);
  *a->mutable_aging()->mutable_age_0_to_30_days() = money(100000000);
  *a->mutable_aging()->mutable_age_31_to_60_days() = money(23456700);
  *a->mutable_aging()->mutable_age_61_to_90_days() = money(0);
  *a->mutable_aging()->mutable_age_over_90_days() = money(0);
  *a->mutable_overdue_amount() = money(23456700);
  a->set_days_overdue(12);
  *a->mutable_oldest_open_sale_date() = Day(2024, 4, 1);
  *a->mutable_last_payment_date() = Day(2024, 5, 20);
  auto* b = r.add_rows();
  b->set_customer_id("c2");
  b->set_display_name("=cmd");
  *b->mutable_balance() = money(50);
  *b->mutable_aging()->mutable_age_0_to_30_days() = money(50);
  *b->mutable_aging()->mutable_age_31_to_60_days() = money(0);
  *b->mutable_aging()->mutable_age_61_to_90_days() = money(0);
  *b->mutable_aging()->mutable_age_over_90_days() = money(0);
  *b->mutable_overdue_amount() = money(0);
  *b->mutable_oldest_open_sale_date() = Day(2024, 5, 30);
  auto* t = r.mutable_totals();
  t->set_customer_count(2);
  *t->mutable_total_balance() = money(123456750);
  *t->mutable_aging()->mutable_age_0_to_30_days() = money(100000050);
  *t->mutable_aging()->mutable_age_31_to_60_days() = money(23456700);
  *t->mutable_aging()->mutable_age_61_to_90_days() = money(0);
  *t->mutable_aging()->mutable_age_over_90_days() = money(0);
  *t->mutable_total_overdue_amount() = money(23456700);
  *r.mutable_as_of_date() = Day(2024, 5, 31);
  r.mutable_data_as_of_time()->set_seconds(1717120800);  // 2024-05-31T02:00:00Z
  return r;
}

// The PDF as the client gets it: "%PDF" first, "%%EOF" last.
void ExpectPdf(const Output& out) {
  EXPECT_TRUE(absl::StartsWith(out.file, "%PDF")) << out.file.substr(0, 16);
  EXPECT_TRUE(absl::EndsWith(absl::StripTrailingAsciiWhitespace(out.file), "%%EOF"));
  for (const auto& m : out.messages) EXPECT_LE(m.chunk().size(), 64u * 1024);
}

class ReportExportTest : public Test {
 protected:
  ReportExportTest() {
    ctx_.time_zone = absl::FixedTimeZone(7 * 3600);
    ctx_.time_zone_name = "Asia/Jakarta";
    ctx_.currency = "IDR";
    ctx_.language_code = "id";
    // 2024-05-31 10:00 in Jakarta.
    clock_.Set(absl::FromCivil(absl::CivilSecond(2024, 5, 31, 10, 0, 0), ctx_.time_zone));
  }

  absl::Status Run(const v1::ExportReportRequest& request, Output& out,
                   const std::string& tenant = "toko-ani") {
    return exporter_.Export(tenant, ctx_, request, absl::InfiniteFuture(), out.Writer());
  }

  static v1::ExportReportRequest Receivables(v1::ExportFormat format, const std::string& lang,
                                             bool plain = false) {
    v1::ExportReportRequest request;
    request.mutable_receivables_report();
    request.set_format(format);
    request.set_language_code(lang);
    request.set_plain_amounts(plain);
    return request;
  }

  FakeReports reports_;
  FakeClock clock_;
  ExportContext ctx_;
  ReportExporter exporter_{reports_, clock_};
};

// ---- CSV bytes ----

TEST_F(ReportExportTest, ReceivablesCsvBytesFormattedRupiah) {
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest&) {
    return SmallReceivables();
  };
  Output out;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "id"), out).ok());
  EXPECT_EQ(out.file,
            "\xEF\xBB\xBF"
            "ID Pelanggan,Pelanggan,Telepon,Saldo,0–30 hari,31–60 hari,61–90 hari,> 90 hari,"
            "Lewat jatuh tempo,Hari terlambat,Penjualan terbuka tertua,Pembayaran terakhir\r\n"
            "c1,\"Siti \"\"Ani\"\", Toko\",'+6281234567890,Rp1.234.567,Rp1.000.000,Rp234.567,"
            "Rp0,Rp0,Rp234.567,12,2024-04-01,2024-05-20\r\n"
            "c2,'=cmd,,\"Rp0,50\",\"Rp0,50\",Rp0,Rp0,Rp0,Rp0,0,2024-05-30,\r\n"
            ",Total (2),,\"Rp1.234.567,50\",\"Rp1.000.000,50\",Rp234.567,Rp0,Rp0,Rp234.567,,,"
            "\r\n");
  EXPECT_EQ(out.messages.back().row_count(), 2);  // customers only, not the totals row
}

TEST_F(ReportExportTest, ReceivablesCsvBytesPlainRupiah) {
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest&) {
    return SmallReceivables();
  };
  Output out;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "en", /*plain=*/true), out).ok());
  const auto lines = out.Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "Customer ID,Customer,Phone,Balance,0–30 days,31–60 days,61–90 days,> 90 days,"
            "Overdue,Days overdue,Oldest open sale,Last payment");
  EXPECT_EQ(lines[1],
            "c1,\"Siti \"\"Ani\"\", Toko\",'+6281234567890,1234567.00,1000000.00,234567.00,"
            "0.00,0.00,234567.00,12,2024-04-01,2024-05-20");
  EXPECT_EQ(lines[2], "c2,'=cmd,,0.50,0.50,0.00,0.00,0.00,0.00,0,2024-05-30,");
  EXPECT_EQ(lines[3], ",Total (2),,1234567.50,1000000.50,234567.00,0.00,0.00,234567.00,,,");
}

TEST_F(ReportExportTest, ReceivablesCsvBytesBaht) {
  ctx_.currency = "THB";
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest&) {
    return SmallReceivables(/*thai_baht=*/true);
  };
  Output formatted;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "en"), formatted).ok());
  auto lines = formatted.Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1],
            "c1,\"Siti \"\"Ani\"\", Toko\",'+6281234567890,\"฿1,234,567.00\",\"฿1,000,000.00\","
            "\"฿234,567.00\",฿0.00,฿0.00,\"฿234,567.00\",12,2024-04-01,2024-05-20");
  EXPECT_EQ(lines[2], "c2,'=cmd,,฿0.50,฿0.50,฿0.00,฿0.00,฿0.00,฿0.00,0,2024-05-30,");

  Output plain;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "th", /*plain=*/true), plain).ok());
  lines = plain.Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "c2,'=cmd,,0.50,0.50,0.00,0.00,0.00,0.00,0,2024-05-30,");
  EXPECT_EQ(lines[3], ",รวม (2),,1234567.50,1000000.50,234567.00,0.00,0.00,234567.00,,,");
}

// ---- Paging and the stream ----

TEST_F(ReportExportTest, PagesThroughTheWholeReport) {
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest& r) {
    v1::GetReceivablesReportResponse page;
    const std::string& token = r.page_token();
    const int first = token.empty() ? 1 : token == "p2" ? 3 : 5;
    const int last = token == "p3" ? 5 : first + 1;
    for (int i = first; i <= last; ++i) *page.add_rows() = Row(absl::StrCat("c", i), "N", 100);
    page.set_next_page_token(token.empty() ? "p2" : token == "p2" ? "p3" : "");
    page.mutable_totals()->set_customer_count(5);
    return page;
  };
  auto request = Receivables(v1::EXPORT_FORMAT_CSV, "en");
  request.mutable_receivables_report()->set_overdue_only(true);
  request.mutable_receivables_report()->set_order_by("days_overdue desc");
  Output out;
  ASSERT_TRUE(Run(request, out).ok());

  absl::MutexLock lock(&reports_.mu);
  ASSERT_EQ(reports_.receivables_requests.size(), 3u);
  const std::vector<std::string> tokens = {"", "p2", "p3"};
  for (size_t i = 0; i < 3; ++i) {
    const auto& seen = reports_.receivables_requests[i];
    EXPECT_EQ(seen.page_size(), 500);
    EXPECT_EQ(seen.page_token(), tokens[i]);
    EXPECT_TRUE(seen.overdue_only());
    EXPECT_EQ(seen.order_by(), "days_overdue desc");
  }
  const auto lines = out.Lines();
  ASSERT_EQ(lines.size(), 7u);  // header, 5 customers, totals
  for (int i = 1; i <= 5; ++i) EXPECT_TRUE(absl::StartsWith(lines[i], absl::StrCat("c", i, ",")));
  EXPECT_TRUE(absl::StartsWith(lines[6], ",Total (5),"));
  EXPECT_EQ(out.messages.back().row_count(), 5);
}

TEST_F(ReportExportTest, FirstAndLastMessages) {
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest&) {
    return SmallReceivables();
  };
  Output out;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "id"), out).ok());
  ASSERT_GE(out.messages.size(), 2u);
  const auto& first = out.messages.front();
  EXPECT_EQ(first.content_type(), "text/csv; charset=utf-8");
  EXPECT_EQ(first.file_name(), "receivables-2024-05-31.csv");
  EXPECT_EQ(first.data_as_of_time().seconds(), 1717120800);
  EXPECT_FALSE(first.chunk().empty());
  EXPECT_EQ(first.row_count(), 0);
  const auto& last = out.messages.back();
  EXPECT_TRUE(last.chunk().empty());
  EXPECT_EQ(last.row_count(), 2);
  EXPECT_TRUE(last.content_type().empty());
  EXPECT_TRUE(last.file_name().empty());
  EXPECT_FALSE(last.has_data_as_of_time());
}

TEST_F(ReportExportTest, FileNameUsesTheTenantsDay) {
  // 2024-05-31T20:00Z is already 1 June in Jakarta.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2024, 5, 31, 20, 0, 0), absl::UTCTimeZone()));
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest&) {
    return SmallReceivables();
  };
  Output out;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_PDF, "id"), out).ok());
  ExpectPdf(out);
  EXPECT_EQ(out.messages.front().file_name(), "receivables-2024-06-01.pdf");
  EXPECT_EQ(out.messages.front().content_type(), "application/pdf");
  EXPECT_EQ(out.messages.back().row_count(), 2);
}

TEST_F(ReportExportTest, LargeReportInChunksOfAtMost64KiB) {
  constexpr int kRows = 20000;
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest& r) {
    const int start = r.page_token().empty() ? 0 : std::stoi(r.page_token());
    v1::GetReceivablesReportResponse page;
    for (int i = start; i < start + r.page_size() && i < kRows; ++i) {
      *page.add_rows() =
          Row(absl::StrCat("customer-", i), absl::StrCat("Pelanggan nomor ", i), 123456700 + i);
    }
    if (start + r.page_size() < kRows) page.set_next_page_token(absl::StrCat(start + 500));
    return page;
  };
  Output out;
  ASSERT_TRUE(Run(Receivables(v1::EXPORT_FORMAT_CSV, "id"), out).ok());
  EXPECT_EQ(reports_.receivables_calls(), kRows / 500);
  EXPECT_GT(out.messages.size(), 10u);
  for (const auto& m : out.messages) EXPECT_LE(m.chunk().size(), 64u * 1024);
  EXPECT_EQ(out.Lines().size(), kRows + 2u);
  EXPECT_EQ(out.messages.back().row_count(), kRows);
  EXPECT_TRUE(out.messages.back().chunk().empty());
}

// ---- The other reports ----

v1::GetCustomerReportResponse ThaiCustomerReport() {
  v1::GetCustomerReportResponse r;
  auto* report = r.mutable_report();
  *report->mutable_start_date() = Day(2024, 1, 1);
  *report->mutable_end_date() = Day(2024, 12, 31);
  report->set_time_zone("Asia/Bangkok");
  report->set_total_customers(120);
  report->set_new_customers(15);
  report->set_active_customers(40);
  *report->mutable_total_sales() = Thb(123450);
  report->set_transaction_count(60);
  *report->mutable_average_customer_value() = Thb(3086);
  *report->mutable_average_order_value() = Thb(2058);
  report->set_purchase_frequency_milli(1500);
  for (int i = 1; i <= 3; ++i) {
    auto* top = report->add_top_customers();
    top->set_rank(i);
    top->set_customer_id(absl::StrCat("c", i));
    top->set_display_name(i == 1 ? "สมชาย ใจดี" : "นางสาว สมหญิง รักไทย");
    *top->mutable_total_spent() = Thb(50000 - i);
    top->set_transaction_count(10 - i);
    *top->mutable_last_purchase_date() = Day(2024, 12, 20 + i);
  }
  report->mutable_data_as_of_time()->set_seconds(1735000000);
  return r;
}

v1::ExportReportRequest CustomerReportRequest(v1::ExportFormat format, const std::string& lang) {
  v1::ExportReportRequest request;
  *request.mutable_customer_report()->mutable_start_date() = Day(2024, 1, 1);
  *request.mutable_customer_report()->mutable_end_date() = Day(2024, 12, 31);
  request.set_format(format);
  request.set_language_code(lang);
  return request;
}

TEST_F(ReportExportTest, CustomerReportPdfWithThaiNames) {
  reports_.customer = [](const v1::GetCustomerReportRequest&) { return ThaiCustomerReport(); };
  Output out;
  ASSERT_TRUE(Run(CustomerReportRequest(v1::EXPORT_FORMAT_PDF, "th"), out).ok());
  ExpectPdf(out);
  EXPECT_EQ(out.messages.front().content_type(), "application/pdf");
  EXPECT_EQ(out.messages.front().file_name(), "customer-report-2024-01-01-2024-12-31.pdf");
  EXPECT_EQ(out.messages.front().data_as_of_time().seconds(), 1735000000);
  EXPECT_EQ(out.messages.back().row_count(), 8 + 3);  // figures and top customers
}

TEST_F(ReportExportTest, CustomerReportCsvLayout) {
  ctx_.currency = "THB";
  reports_.customer = [](const v1::GetCustomerReportRequest&) { return ThaiCustomerReport(); };
  Output out;
  ASSERT_TRUE(Run(CustomerReportRequest(v1::EXPORT_FORMAT_CSV, "en"), out).ok());
  const auto lines = out.Lines();
  ASSERT_EQ(lines.size(), 1u + 8 + 3);
  EXPECT_EQ(lines[0], "Item,Rank,Customer ID,Customer,Value,Transactions,Last purchase");
  EXPECT_EQ(lines[1], "Total customers,,,,120,,");
  EXPECT_EQ(lines[4], "Total sales,,,,\"฿1,234.50\",,");
  EXPECT_EQ(lines[8], "Purchase frequency,,,,1.5,,");
  EXPECT_EQ(lines[9], "Top customer,1,c1,สมชาย ใจดี,฿499.99,9,2024-12-21");
}

TEST_F(ReportExportTest, PaymentReminderCsvWithWhatsAppLinks) {
  reports_.insights = [](const v1::ListCustomerInsightsRequest& r) {
    v1::ListCustomerInsightsResponse page;
    auto* c = page.add_insights();
    c->set_customer_id(r.page_token().empty() ? "c1" : "c2");
    c->set_display_name("Budi");
    c->set_phone_e164(r.page_token().empty() ? "+628123456789" : "");
    *c->mutable_balance() = Idr(5000000);
    *c->mutable_overdue_amount() = Idr(2500000);
    c->set_days_overdue(40);
    *c->mutable_last_purchase_date() = Day(2024, 3, 2);
    if (r.page_token().empty()) page.set_next_page_token("next");
    *page.mutable_as_of_date() = Day(2024, 5, 31);
    return page;
  };
  v1::ExportReportRequest request;
  request.mutable_customer_insights()->set_kind(v1::INSIGHT_KIND_PAYMENT_REMINDER);
  request.set_format(v1::EXPORT_FORMAT_CSV);
  Output out;
  ASSERT_TRUE(Run(request, out).ok());  // tenant's language: id
  EXPECT_EQ(out.messages.front().file_name(), "insights-payment-reminder-2024-05-31.csv");
  EXPECT_FALSE(out.messages.front().has_data_as_of_time());
  const auto lines = out.Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "ID Pelanggan,Pelanggan,Telepon,WhatsApp,Saldo,Lewat jatuh tempo,Hari terlambat,"
            "Pembelian terakhir");
  EXPECT_EQ(lines[1],
            "c1,Budi,'+628123456789,https://wa.me/628123456789,Rp50.000,Rp25.000,40,2024-03-02");
  EXPECT_EQ(lines[2], "c2,Budi,,,Rp50.000,Rp25.000,40,2024-03-02");
  EXPECT_EQ(out.messages.back().row_count(), 2);
}

TEST_F(ReportExportTest, SegmentListPdfInThai) {
  reports_.insights = [](const v1::ListCustomerInsightsRequest&) {
    v1::ListCustomerInsightsResponse page;
    auto* c = page.add_insights();
    c->set_customer_id("c1");
    c->set_display_name("สมชาย ใจดี");
    c->set_segment(v1::CUSTOMER_SEGMENT_BEST);
    c->set_recency_days(3);
    return page;
  };
  v1::ExportReportRequest request;
  request.mutable_customer_insights()->set_kind(v1::INSIGHT_KIND_BEST);
  request.set_format(v1::EXPORT_FORMAT_PDF);
  request.set_language_code("th");
  Output out;
  ASSERT_TRUE(Run(request, out).ok());
  ExpectPdf(out);
  EXPECT_EQ(out.messages.front().file_name(), "insights-best-2024-05-31.pdf");
  EXPECT_EQ(out.messages.back().row_count(), 1);
}

TEST_F(ReportExportTest, SeriesCsvOneRowPerBucket) {
  reports_.series = [](const v1::GetSeriesRequest&) {
    v1::GetSeriesResponse r;
    for (int m = 1; m <= 12; ++m) {
      auto* p = r.add_points();
      *p->mutable_start_date() = Day(2024, m, 1);
      *p->mutable_end_date() = Day(2024, m, 28);
      *p->mutable_amount() = Idr(m * 100000);
    }
    r.mutable_data_as_of_time()->set_seconds(1717120800);
    return r;
  };
  v1::ExportReportRequest request;
  auto* series = request.mutable_series();
  series->set_metric(v1::SERIES_METRIC_SALES);
  series->set_granularity(v1::GRANULARITY_MONTH);
  *series->mutable_start_date() = Day(2024, 1, 1);
  *series->mutable_end_date() = Day(2024, 12, 31);
  request.set_format(v1::EXPORT_FORMAT_CSV);
  request.set_language_code("en");
  Output out;
  ASSERT_TRUE(Run(request, out).ok());
  EXPECT_EQ(out.messages.front().file_name(), "series-sales-month-2024-01-01-2024-12-31.csv");
  const auto lines = out.Lines();
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0], "Start,End,Sales");
  EXPECT_EQ(lines[2], "2024-02-01,2024-02-28,Rp2.000");
  EXPECT_EQ(out.messages.back().row_count(), 12);

  request.set_format(v1::EXPORT_FORMAT_PDF);
  Output pdf;
  ASSERT_TRUE(Run(request, pdf).ok());
  ExpectPdf(pdf);
}

// ---- Errors ----

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(status)) fields.push_back(v.field);
  return fields;
}

TEST_F(ReportExportTest, ValidationNamesEveryField) {
  Output out;
  absl::Status empty = Run(v1::ExportReportRequest(), out);
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(empty), "INVALID_ARGUMENT");
  EXPECT_EQ(Fields(empty), (std::vector<std::string>{"report", "format"}));

  auto receivables = Receivables(v1::EXPORT_FORMAT_CSV, "fr");
  receivables.mutable_receivables_report()->set_page_size(10);
  receivables.mutable_receivables_report()->set_page_token("abc");
  absl::Status paged = Run(receivables, out);
  EXPECT_EQ(paged.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(paged),
            (std::vector<std::string>{"receivables_report.page_size",
                                      "receivables_report.page_token", "language_code"}));

  v1::ExportReportRequest insights;
  insights.mutable_customer_insights()->set_kind(v1::INSIGHT_KIND_BEST);
  insights.mutable_customer_insights()->set_page_size(1);
  insights.mutable_customer_insights()->set_page_token("t");
  insights.set_format(static_cast<v1::ExportFormat>(7));
  EXPECT_EQ(Fields(Run(insights, out)),
            (std::vector<std::string>{"customer_insights.page_size", "customer_insights.page_token",
                                      "format"}));

  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(reports_.receivables_calls(), 0);
}

TEST_F(ReportExportTest, PortErrorsPassThrough) {
  const absl::Status too_long =
      errors::Error(absl::StatusCode::kInvalidArgument, "DATE_RANGE_TOO_LONG", "too long",
                    {{"max_days", "1098"}});
  reports_.customer = [&](const v1::GetCustomerReportRequest&) { return too_long; };
  Output out;
  absl::Status status = Run(CustomerReportRequest(v1::EXPORT_FORMAT_CSV, "id"), out);
  EXPECT_EQ(status, too_long);
  EXPECT_EQ(errors::GetMetadata(status).at("max_days"), "1098");
  EXPECT_TRUE(out.messages.empty());

  // A failure on a later page ends the export with that error.
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest& r)
      -> absl::StatusOr<v1::GetReceivablesReportResponse> {
    if (!r.page_token().empty()) return absl::UnavailableError("store down");
    v1::GetReceivablesReportResponse page;
    *page.add_rows() = Row("c1", "A", 1);
    page.set_next_page_token("p2");
    return page;
  };
  Output partial;
  EXPECT_EQ(Run(Receivables(v1::EXPORT_FORMAT_CSV, "id"), partial).code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(ReportExportTest, DeadlinePassedBetweenPages) {
  reports_.receivables = [this](const std::string&, const v1::GetReceivablesReportRequest&) {
    clock_.Advance(absl::Seconds(10));
    v1::GetReceivablesReportResponse page;
    page.set_next_page_token("more");
    return page;
  };
  Output out;
  const absl::Time deadline = clock_.Now() + absl::Seconds(5);
  absl::Status status = exporter_.Export("toko-ani", ctx_, Receivables(v1::EXPORT_FORMAT_CSV, "id"),
                                         deadline, out.Writer());
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(reports_.receivables_calls(), 1);
}

// ---- The per-tenant limit ----

TEST_F(ReportExportTest, ThirdConcurrentExportOfATenantIsRefused) {
  absl::Mutex mu;
  int blocked = 0;
  absl::Notification release;
  reports_.receivables = [&](const std::string& tenant, const v1::GetReceivablesReportRequest&) {
    if (tenant == "toko-ani") {
      {
        absl::MutexLock lock(&mu);
        ++blocked;
      }
      release.WaitForNotification();
    }
    return SmallReceivables();
  };
  const auto request = Receivables(v1::EXPORT_FORMAT_CSV, "id");
  Output out1, out2;
  absl::Status s1, s2;
  std::thread t1([&] { s1 = Run(request, out1); });
  std::thread t2([&] { s2 = Run(request, out2); });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 2; }, &blocked));
  }

  Output refused;
  absl::Status third = Run(request, refused);
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(errors::Reason(third), "EXPORT_LIMIT_REACHED");
  EXPECT_EQ(errors::GetMetadata(third).at("max_concurrent"), "2");
  EXPECT_TRUE(refused.messages.empty());

  Output other;
  EXPECT_TRUE(Run(request, other, "toko-budi").ok());  // another tenant has its own slots

  release.Notify();
  t1.join();
  t2.join();
  EXPECT_TRUE(s1.ok()) << s1;
  EXPECT_TRUE(s2.ok()) << s2;
  Output after;
  EXPECT_TRUE(Run(request, after).ok());  // both slots came back
}

TEST_F(ReportExportTest, ClientGoneStopsTheExportAndFreesTheSlot) {
  ReportExporter exporter(reports_, clock_, ReportExportOptions{.max_concurrent_per_tenant = 1});
  reports_.receivables = [](const std::string&, const v1::GetReceivablesReportRequest& r) {
    const int start = r.page_token().empty() ? 0 : std::stoi(r.page_token());
    v1::GetReceivablesReportResponse page;
    for (int i = 0; i < 500; ++i) *page.add_rows() = Row(absl::StrCat("c", start + i), "N", 1);
    if (start < 10000) page.set_next_page_token(absl::StrCat(start + 500));
    return page;
  };
  const auto request = Receivables(v1::EXPORT_FORMAT_CSV, "id");
  int writes = 0;
  auto gone = [&](const v1::ExportReportResponse&) {
    ++writes;
    return absl::CancelledError("the client went away");
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::Status status = exporter.Export("toko-ani", ctx_, request, absl::InfiniteFuture(), gone);
    EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(writes, 2);                             // nothing written after the failure
  EXPECT_LT(reports_.receivables_calls(), 2 * 21);  // the rest of the report was never read

  Output out;
  EXPECT_TRUE(
      exporter.Export("toko-ani", ctx_, request, absl::InfiniteFuture(), out.Writer()).ok());
  EXPECT_EQ(out.messages.back().row_count(), 21 * 500);
}

}  // namespace
}  // namespace kelola::report::app
