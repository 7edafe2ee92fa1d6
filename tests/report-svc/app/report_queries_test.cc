// The tenant-wide reports (R2, R3, R5, R6) over a real read model (a SQLite file and a fresh
// PostgreSQL database), fed with ledger and customer events as the feeds apply them, read
// with a fake clock in Asia/Jakarta. The figures are worked out by hand in the comments.

#include "report-svc/app/report_queries.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/events.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"
#include "libs/time/time.h"
#include "report-svc/api/summary_card_reader.h"
#include "report-svc/app/segments.h"
#include "report-svc/store/customer_dimension.h"
#include "report-svc/store/fact_index.h"
#include "report-svc/store/migrations.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report::app {
namespace {

namespace lv1 = ledger::v1;
namespace cv1 = customer::v1;

const absl::TimeZone kJakarta = absl::FixedTimeZone(7 * 3600);

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

absl::Time Jkt(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), kJakarta);
}

class FixedSettings final : public TenantSettingsSource {
 public:
  absl::StatusOr<TenantSettings> Get(const std::string&, absl::Time) override {
    TenantSettings s;
    s.time_zone = kJakarta;
    return s;
  }
};

template <typename T>
type::v1::Event EventOf(const T& payload, const std::string& aggregate = "", int64_t version = 0,
                        absl::Time occur = Jkt(2026, 3, 15, 9, 0)) {
  type::v1::Event event;
  event.set_tenant_id("t1");
  event.set_type(T::descriptor()->full_name());
  event.set_aggregate_id(aggregate);
  event.set_aggregate_version(version);
  *event.mutable_occur_time() = time::ToTimestamp(occur);
  event.mutable_payload()->PackFrom(payload);
  return event;
}

lv1::CustomerLedgerStats Stats(int64_t spent, int64_t count, int64_t balance,
                               std::optional<absl::Time> first = std::nullopt,
                               std::optional<absl::Time> last = std::nullopt) {
  lv1::CustomerLedgerStats s;
  s.mutable_total_spent()->set_amount_minor(spent);
  s.mutable_total_spent()->set_currency_code("IDR");
  s.set_transaction_count(count);
  s.mutable_balance()->set_amount_minor(balance);
  if (first) *s.mutable_first_purchase_time() = time::ToTimestamp(*first);
  if (last) *s.mutable_last_purchase_time() = time::ToTimestamp(*last);
  return s;
}

lv1::SalePosition Position(const std::string& sale, const std::string& customer,
                           const std::string& store, absl::Time at, int64_t net,
                           int64_t outstanding, std::optional<absl::CivilDay> due = std::nullopt,
                           lv1::SaleStatus status = lv1::SALE_STATUS_UNPAID) {
  lv1::SalePosition p;
  p.set_sale_id(sale);
  p.set_customer_id(customer);
  p.set_store_id(store);
  *p.mutable_sale_time() = time::ToTimestamp(at);
  p.mutable_net_total()->set_amount_minor(net);
  p.mutable_outstanding()->set_amount_minor(outstanding);
  if (due) *p.mutable_due_date() = time::ToDate(*due);
  p.set_status(status);
  return p;
}

type::v1::Event SaleEvent(const lv1::SalePosition& p, int64_t version,
                          const lv1::CustomerLedgerStats& stats,
                          const std::string& payment_id = "") {
  lv1::SaleRecorded sale;
  sale.set_customer_id(p.customer_id());
  sale.set_ledger_version(version);
  *sale.mutable_stats() = stats;
  sale.mutable_sale()->set_sale_id(p.sale_id());
  *sale.mutable_sale()->mutable_sale_time() = p.sale_time();
  if (!payment_id.empty()) {
    sale.mutable_sale_payment()->set_payment_id(payment_id);
    sale.mutable_sale_payment()->set_customer_id(p.customer_id());
    *sale.mutable_sale_payment()->mutable_received_time() = p.sale_time();
    sale.mutable_sale_payment()->set_status(lv1::PAYMENT_STATUS_ACTIVE);
  }
  *sale.add_affected_sales() = p;
  return EventOf(sale);
}

type::v1::Event CustomerCreated(const std::string& id, const std::string& name,
                                const std::string& category, const std::string& phone,
                                absl::Time created) {
  cv1::CustomerCreated e;
  cv1::Customer& c = *e.mutable_customer();
  c.set_customer_id(id);
  c.set_display_name(name);
  c.set_category_id(category);
  c.mutable_phone()->set_e164(phone);
  c.set_state(cv1::CUSTOMER_STATE_ACTIVE);
  *c.mutable_create_time() = time::ToTimestamp(created);
  if (!phone.empty())
    c.mutable_marketing_consent()->set_state(cv1::MARKETING_CONSENT_STATE_GRANTED);
  return EventOf(e, id, 1);
}

class ReportQueriesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-reports");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    auto url = testing::DatabaseUrl(GetParam(), *dir_, "reports");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = db::Open(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
    clock_.Set(Jkt(2026, 3, 15, 10, 0));
    // Tiny chunks: every read below also pages through the tables.
    facts_ = std::make_unique<store::FactIndex>(*db_, store::FactIndexOptions{.chunk_rows = 2});
    reports_ = std::make_unique<ReportQueries>(*db_, *facts_, clock_, settings_);
    Feed();
  }

  void ApplyLedger(std::vector<type::v1::Event> events) {
    for (type::v1::Event& e : events) e.set_sequence(++ledger_sequence_);
    auto applied = store::ApplyBatch(*db_, store::kCardConsumer, store::kLedgerProducer, events);
    ASSERT_TRUE(applied.ok()) << applied.status();
  }
  void ApplyCustomers(const std::vector<type::v1::Event>& events) {
    auto s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      for (type::v1::Event e : events) {
        e.set_sequence(++customer_sequence_);
        if (auto st = store::ApplyCustomerEvent(tx, e); !st.ok()) return st;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  // Customers: c1 Ani (vip, phone) created Jan 10; c2 Budi created Feb 1 23:30 Jakarta;
  // c3 Citra (vip) created Mar 1 00:10 Jakarta (Feb 28 in UTC); c4 created Mar 10, deleted.
  // Sales: s1 c1 store A Jan 15 100,000 due Feb 14; s2 c1 store B Mar 14 23:30 50,000 paid
  // with the sale (payment p2); s3 c2 store A Feb 28 23:50 30,000 no due date; a walk-in
  // sale; s5 c3 store B Mar 1 00:10 20,000, voided on Mar 2. Payment p1 of c1 on Mar 1
  // 12:00 pays 40,000 of s1.
  void Feed() {
    const absl::Time s1 = Jkt(2026, 1, 15, 10, 0), s2 = Jkt(2026, 3, 14, 23, 30),
                     s3 = Jkt(2026, 2, 28, 23, 50), s5 = Jkt(2026, 3, 1, 0, 10);
    ApplyCustomers({CustomerCreated("c1", "Ani", "vip", "+62811", Jkt(2026, 1, 10, 9, 0)),
                    CustomerCreated("c2", "Budi", "", "", Jkt(2026, 2, 1, 23, 30)),
                    CustomerCreated("c3", "Citra", "vip", "", Jkt(2026, 3, 1, 0, 10)),
                    CustomerCreated("c4", "Dodi", "", "", Jkt(2026, 3, 10, 8, 0))});
    cv1::CustomerDeleted deleted;
    deleted.set_customer_id("c4");
    ApplyCustomers({EventOf(deleted, "c4", 2)});

    lv1::SaleRecorded walk_in;
    walk_in.mutable_sale()->set_sale_id("s4");
    lv1::PaymentRecorded p1;
    p1.set_customer_id("c1");
    p1.set_ledger_version(2);
    *p1.mutable_stats() = Stats(100000, 1, 60000, s1, s1);
    p1.mutable_payment()->set_payment_id("p1");
    p1.mutable_payment()->set_customer_id("c1");
    *p1.mutable_payment()->mutable_received_time() = time::ToTimestamp(Jkt(2026, 3, 1, 12, 0));
    *p1.add_affected_sales() = Position("s1", "c1", "A", s1, 100000, 60000,
                                        absl::CivilDay(2026, 2, 14), lv1::SALE_STATUS_PARTIAL);
    lv1::SaleVoided void5;
    void5.set_customer_id("c3");
    void5.set_ledger_version(2);
    *void5.mutable_stats() = Stats(0, 0, 0);
    *void5.mutable_sale()->mutable_void_info()->mutable_void_time() =
        time::ToTimestamp(Jkt(2026, 3, 2, 9, 0));
    *void5.add_affected_sales() =
        Position("s5", "c3", "B", s5, 0, 0, std::nullopt, lv1::SALE_STATUS_VOIDED);
    ApplyLedger({
        SaleEvent(Position("s1", "c1", "A", s1, 100000, 100000, absl::CivilDay(2026, 2, 14)), 1,
                  Stats(100000, 1, 100000, s1, s1)),
        EventOf(walk_in),
        SaleEvent(Position("s3", "c2", "A", s3, 30000, 30000), 1, Stats(30000, 1, 30000, s3, s3)),
        SaleEvent(Position("s5", "c3", "B", s5, 20000, 20000), 1, Stats(20000, 1, 20000, s5, s5)),
        EventOf(p1),
        EventOf(void5),
        SaleEvent(Position("s2", "c1", "B", s2, 50000, 0, std::nullopt, lv1::SALE_STATUS_PAID), 3,
                  Stats(150000, 2, 60000, s1, s2), "p2"),
    });
  }

  v1::CustomerReport CustomerReport(absl::CivilDay first, absl::CivilDay last,
                                    const std::string& category = "",
                                    const std::string& store = "") {
    v1::GetCustomerReportRequest r;
    *r.mutable_start_date() = time::ToDate(first);
    *r.mutable_end_date() = time::ToDate(last);
    r.set_category_id(category);
    r.set_store_id(store);
    auto response = reports_->GetCustomerReport("t1", r, absl::InfiniteFuture());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->report() : v1::CustomerReport();
  }

  std::vector<int64_t> Series(v1::SeriesMetric metric, v1::Granularity g, absl::CivilDay first,
                              absl::CivilDay last) {
    v1::GetSeriesRequest r;
    r.set_metric(metric);
    r.set_granularity(g);
    *r.mutable_start_date() = time::ToDate(first);
    *r.mutable_end_date() = time::ToDate(last);
    auto response = reports_->GetSeries("t1", r, absl::InfiniteFuture());
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<int64_t> out;
    if (!response.ok()) return out;
    for (const auto& p : response->points()) {
      out.push_back(p.has_amount() ? p.amount().amount_minor() : p.count());
    }
    return out;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
  FakeClock clock_;
  FixedSettings settings_;
  std::unique_ptr<store::FactIndex> facts_;
  std::unique_ptr<ReportQueries> reports_;
  int64_t ledger_sequence_ = 0;
  int64_t customer_sequence_ = 0;
};

TEST_P(ReportQueriesTest, CustomerReportCountsByTheTenantsDays) {
  // Mar 1–15: s2 only (s3 at 23:50 Jakarta is Feb 28; s5 voided); c3 is new (00:10 Mar 1).
  v1::CustomerReport march = CustomerReport(D(2026, 3, 1), D(2026, 3, 15));
  EXPECT_EQ(march.total_customers(), 3);  // c4 deleted
  EXPECT_EQ(march.new_customers(), 1);
  EXPECT_EQ(march.active_customers(), 1);
  EXPECT_EQ(march.total_sales().amount_minor(), 50000);
  EXPECT_EQ(march.transaction_count(), 1);
  EXPECT_EQ(march.purchase_frequency_milli(), 1000);
  EXPECT_EQ(march.time_zone(), "Asia/Jakarta");
  ASSERT_EQ(march.top_customers_size(), 1);
  EXPECT_EQ(march.top_customers(0).customer_id(), "c1");
  EXPECT_EQ(march.top_customers(0).display_name(), "Ani");
  EXPECT_EQ(march.top_customers(0).last_purchase_date().day(), 14);
  EXPECT_TRUE(march.has_data_as_of_time());

  v1::CustomerReport feb28 = CustomerReport(D(2026, 2, 28), D(2026, 2, 28));
  EXPECT_EQ(feb28.total_sales().amount_minor(), 30000);
  EXPECT_EQ(feb28.total_customers(), 2);  // c3 is created on Mar 1 in Jakarta

  v1::CustomerReport vip = CustomerReport(D(2026, 1, 1), D(2026, 3, 15), "vip");
  EXPECT_EQ(vip.total_customers(), 2);
  EXPECT_EQ(vip.new_customers(), 2);
  EXPECT_EQ(vip.total_sales().amount_minor(), 150000);
  EXPECT_EQ(vip.transaction_count(), 2);
  EXPECT_EQ(vip.average_order_value().amount_minor(), 75000);
  EXPECT_EQ(vip.purchase_frequency_milli(), 2000);

  // Store A: customers from their first purchase there (c1 Jan 15, c2 Feb 28).
  v1::CustomerReport store_a = CustomerReport(D(2026, 2, 1), D(2026, 3, 15), "", "A");
  EXPECT_EQ(store_a.total_customers(), 2);
  EXPECT_EQ(store_a.new_customers(), 1);
  EXPECT_EQ(store_a.total_sales().amount_minor(), 30000);
}

TEST_P(ReportQueriesTest, CustomerReportRefusesBadRanges) {
  v1::GetCustomerReportRequest r;
  *r.mutable_start_date() = time::ToDate(D(2026, 3, 2));
  *r.mutable_end_date() = time::ToDate(D(2026, 3, 1));
  r.set_top_customers_limit(101);
  auto bad = reports_->GetCustomerReport("t1", r, absl::InfiniteFuture());
  ASSERT_FALSE(bad.ok());
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(bad.status())) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"end_date", "top_customers_limit"}));
  *r.mutable_end_date() = time::ToDate(absl::CivilDay(2026, 3, 2) + 1098);
  r.set_top_customers_limit(0);
  auto too_long = reports_->GetCustomerReport("t1", r, absl::InfiniteFuture());
  EXPECT_EQ(errors::Reason(too_long.status()), "DATE_RANGE_TOO_LONG");
  EXPECT_EQ(errors::GetMetadata(too_long.status())["max_days"], "1098");
  auto missing = reports_->GetCustomerReport("t1", {}, absl::InfiniteFuture());
  EXPECT_EQ(errors::Violations(missing.status()).size(), 2u);
}

TEST_P(ReportQueriesTest, ReceivablesAgeOnTodayAndPage) {
  v1::GetReceivablesReportRequest r;
  auto all = reports_->GetReceivablesReport("t1", r, absl::InfiniteFuture());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->rows_size(), 2);
  // c1 owes 60,000 on s1 (Jan 15: 59 days old, due Feb 14: 29 days overdue).
  const v1::ReceivablesReportRow& c1 = all->rows(0);
  EXPECT_EQ(c1.customer_id(), "c1");
  EXPECT_EQ(c1.balance().amount_minor(), 60000);
  EXPECT_EQ(c1.aging().age_31_to_60_days().amount_minor(), 60000);
  EXPECT_EQ(c1.overdue_amount().amount_minor(), 60000);
  EXPECT_EQ(c1.days_overdue(), 29);
  EXPECT_EQ(c1.phone_e164(), "+62811");
  EXPECT_EQ(c1.ledger_version(), 3);
  EXPECT_EQ(c1.last_payment_date().day(), 14);  // p2, the payment made with s2
  EXPECT_EQ(c1.oldest_open_sale_date().month(), 1);
  // c2 owes 30,000 on s3 (15 days old, no due date).
  EXPECT_EQ(all->rows(1).aging().age_0_to_30_days().amount_minor(), 30000);
  EXPECT_EQ(all->rows(1).overdue_amount().amount_minor(), 0);
  EXPECT_FALSE(all->rows(1).has_last_payment_date());
  EXPECT_EQ(all->totals().customer_count(), 2);
  EXPECT_EQ(all->totals().total_balance().amount_minor(), 90000);
  EXPECT_EQ(all->totals().total_overdue_amount().amount_minor(), 60000);
  EXPECT_EQ(all->as_of_date().day(), 15);

  r.set_overdue_only(true);
  auto overdue = reports_->GetReceivablesReport("t1", r, absl::InfiniteFuture());
  ASSERT_TRUE(overdue.ok());
  EXPECT_EQ(overdue->rows_size(), 1);
  EXPECT_EQ(overdue->totals().customer_count(), 1);

  v1::GetReceivablesReportRequest paged;
  paged.set_page_size(1);
  paged.set_order_by("display_name asc");
  auto first = reports_->GetReceivablesReport("t1", paged, absl::InfiniteFuture());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->rows_size(), 1);
  EXPECT_EQ(first->rows(0).display_name(), "Ani");
  ASSERT_FALSE(first->next_page_token().empty());
  paged.set_page_token(first->next_page_token());
  auto second = reports_->GetReceivablesReport("t1", paged, absl::InfiniteFuture());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->rows_size(), 1);
  EXPECT_EQ(second->rows(0).display_name(), "Budi");
  EXPECT_TRUE(second->next_page_token().empty());
  paged.set_order_by("balance desc");
  EXPECT_EQ(
      errors::Reason(reports_->GetReceivablesReport("t1", paged, absl::InfiniteFuture()).status()),
      "PAGE_TOKEN_MISMATCH");
  paged.set_page_token("");
  paged.set_order_by("balance asc");
  EXPECT_EQ(
      errors::Reason(reports_->GetReceivablesReport("t1", paged, absl::InfiniteFuture()).status()),
      "INVALID_ORDER_BY");

  v1::GetReceivablesReportRequest store_b;
  store_b.set_store_id("B");
  auto none = reports_->GetReceivablesReport("t1", store_b, absl::InfiniteFuture());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows_size(), 0);
}

TEST_P(ReportQueriesTest, SeriesFillEveryBucketInTheTenantsDays) {
  EXPECT_EQ(Series(v1::SERIES_METRIC_SALES, v1::GRANULARITY_DAY, D(2026, 3, 13), D(2026, 3, 15)),
            (std::vector<int64_t>{0, 50000, 0}));
  EXPECT_EQ(Series(v1::SERIES_METRIC_SALES, v1::GRANULARITY_MONTH, D(2026, 1, 20), D(2026, 3, 1)),
            (std::vector<int64_t>{100000, 30000, 50000}));
  // Owed at each month's end (now for March): s1 and s3, then p1 and s5's void.
  EXPECT_EQ(
      Series(v1::SERIES_METRIC_RECEIVABLES, v1::GRANULARITY_MONTH, D(2026, 1, 1), D(2026, 3, 31)),
      (std::vector<int64_t>{100000, 130000, 90000}));
  // Mar 1: s5 added 20,000 and p1 paid 40,000; Mar 2: s5 voided.
  EXPECT_EQ(
      Series(v1::SERIES_METRIC_RECEIVABLES, v1::GRANULARITY_DAY, D(2026, 3, 1), D(2026, 3, 2)),
      (std::vector<int64_t>{110000, 90000}));
  EXPECT_EQ(
      Series(v1::SERIES_METRIC_NEW_CUSTOMERS, v1::GRANULARITY_MONTH, D(2026, 1, 1), D(2026, 3, 31)),
      (std::vector<int64_t>{1, 1, 1}));
  // Weeks start on Monday: Mar 15 2026 is a Sunday, in the week of Mar 9.
  v1::GetSeriesRequest week;
  week.set_metric(v1::SERIES_METRIC_SALES);
  week.set_granularity(v1::GRANULARITY_WEEK);
  *week.mutable_start_date() = time::ToDate(D(2026, 3, 15));
  *week.mutable_end_date() = time::ToDate(D(2026, 3, 15));
  auto weekly = reports_->GetSeries("t1", week, absl::InfiniteFuture());
  ASSERT_TRUE(weekly.ok());
  ASSERT_EQ(weekly->points_size(), 1);
  EXPECT_EQ(weekly->points(0).start_date().day(), 9);
  EXPECT_EQ(weekly->points(0).end_date().day(), 15);
  EXPECT_EQ(weekly->points(0).amount().amount_minor(), 50000);

  week.set_granularity(v1::GRANULARITY_DAY);
  *week.mutable_start_date() = time::ToDate(D(2025, 1, 1));
  auto too_long = reports_->GetSeries("t1", week, absl::InfiniteFuture());
  EXPECT_EQ(errors::Reason(too_long.status()), "DATE_RANGE_TOO_LONG");
  EXPECT_EQ(errors::GetMetadata(too_long.status())["max_points"], "400");
}

TEST_P(ReportQueriesTest, InsightsSegmentCustomersAndListReminders) {
  auto list = [&](v1::InsightKind kind, const std::string& filter = "") {
    v1::ListCustomerInsightsRequest r;
    r.set_kind(kind);
    r.set_filter(filter);
    auto response = reports_->ListCustomerInsights("t1", r, absl::InfiniteFuture());
    EXPECT_TRUE(response.ok()) << response.status();
    std::vector<std::string> ids;
    if (response.ok()) {
      for (const auto& i : response->insights()) ids.push_back(i.customer_id());
    }
    return ids;
  };
  // Window values: c1 2 sales 150,000, last 1 day ago; c2 1 sale 30,000, 15 days ago.
  // c1 scores 5/5/5 (BEST); c2 first bought 15 days ago (NEW); c3 only a voided sale.
  EXPECT_EQ(list(v1::INSIGHT_KIND_BEST), (std::vector<std::string>{"c1"}));
  EXPECT_EQ(list(v1::INSIGHT_KIND_NEW), (std::vector<std::string>{"c2"}));
  EXPECT_EQ(list(v1::INSIGHT_KIND_BEST, "has_phone = false"), (std::vector<std::string>{}));
  EXPECT_EQ(list(v1::INSIGHT_KIND_PAYMENT_REMINDER, "days_overdue >= 29"),
            (std::vector<std::string>{"c1"}));
  EXPECT_EQ(list(v1::INSIGHT_KIND_PAYMENT_REMINDER, "days_overdue >= 30"),
            (std::vector<std::string>{}));

  v1::ListCustomerInsightsRequest r;
  r.set_kind(v1::INSIGHT_KIND_BEST);
  auto best = reports_->ListCustomerInsights("t1", r, absl::InfiniteFuture());
  ASSERT_TRUE(best.ok());
  ASSERT_EQ(best->insights_size(), 1);
  const v1::CustomerInsight& c1 = best->insights(0);
  EXPECT_EQ(c1.recency_score(), 5);
  EXPECT_EQ(c1.frequency(), 2);
  EXPECT_EQ(c1.monetary().amount_minor(), 150000);
  EXPECT_EQ(c1.recency_days(), 1);
  EXPECT_TRUE(c1.marketing_consent());
  EXPECT_EQ(best->total_size(), 1);

  r.set_filter("bogus = 1");
  EXPECT_EQ(
      errors::Reason(reports_->ListCustomerInsights("t1", r, absl::InfiniteFuture()).status()),
      "INVALID_FILTER");
  r.set_filter("days_overdue >= 1");
  EXPECT_EQ(
      errors::Reason(reports_->ListCustomerInsights("t1", r, absl::InfiniteFuture()).status()),
      "INVALID_FILTER");
  r.set_kind(v1::INSIGHT_KIND_UNSPECIFIED);
  r.set_filter("");
  EXPECT_EQ(
      errors::Reason(reports_->ListCustomerInsights("t1", r, absl::InfiniteFuture()).status()),
      "INVALID_ARGUMENT");
}

TEST_P(ReportQueriesTest, AnErasedCustomerKeepsAmountsWithoutPersonalData) {
  cv1::CustomerErased erased;
  erased.set_customer_id("c1");
  ApplyCustomers({EventOf(erased, "c1", 2)});
  auto all = reports_->GetReceivablesReport("t1", {}, absl::InfiniteFuture());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->rows_size(), 2);
  EXPECT_EQ(all->rows(0).customer_id(), "c1");
  EXPECT_EQ(all->rows(0).display_name(), "");
  EXPECT_EQ(all->rows(0).phone_e164(), "");
  EXPECT_EQ(all->rows(0).balance().amount_minor(), 60000);
  // Erased customers no longer count as existing customers.
  EXPECT_EQ(CustomerReport(D(2026, 3, 1), D(2026, 3, 15)).total_customers(), 2);
  // An older event replayed afterwards brings nothing back.
  ApplyCustomers({CustomerCreated("c1", "Ani", "vip", "+62811", Jkt(2026, 1, 10, 9, 0))});
  auto again = reports_->GetReceivablesReport("t1", {}, absl::InfiniteFuture());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows(0).display_name(), "");
}

TEST_P(ReportQueriesTest, CardsCarryTheirSegmentOfTheDay) {
  SegmentsOptions inline_segments;
  inline_segments.compute_inline = true;
  Segments segments(*facts_, inline_segments);
  SummaryCardReader reader(*db_, *facts_, clock_, settings_, {}, &segments);
  v1::BatchGetSummaryCardsRequest r;
  for (const char* id : {"c1", "c2", "c3", "unknown"}) r.add_customer_ids(id);
  auto cards = reader.BatchGet("t1", r, absl::InfiniteFuture());
  ASSERT_TRUE(cards.ok()) << cards.status();
  EXPECT_EQ(cards->cards(0).segment(), v1::CUSTOMER_SEGMENT_BEST);
  EXPECT_EQ(cards->cards(0).segment_date().day(), 15);
  EXPECT_EQ(cards->cards(1).segment(), v1::CUSTOMER_SEGMENT_NEW);
  EXPECT_EQ(cards->cards(2).segment(), v1::CUSTOMER_SEGMENT_NO_PURCHASES);
  EXPECT_EQ(cards->cards(3).segment(), v1::CUSTOMER_SEGMENT_UNSPECIFIED);
  EXPECT_FALSE(cards->cards(3).has_segment_date());
  // 200 days on, with no new sale, both buyers are inactive.
  clock_.Advance(absl::Hours(24 * 200));
  auto later = reader.BatchGet("t1", r, absl::InfiniteFuture());
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->cards(0).segment(), v1::CUSTOMER_SEGMENT_INACTIVE);
  EXPECT_EQ(later->cards(1).segment(), v1::CUSTOMER_SEGMENT_INACTIVE);
}

TEST_P(ReportQueriesTest, ReadsFollowLaterWritesAndMerges) {
  auto before = reports_->GetReceivablesReport("t1", {}, absl::InfiniteFuture());
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->totals().total_balance().amount_minor(), 90000);
  // c2 is merged into c1: s3 (30,000 owed) and its history move to the survivor.
  lv1::CustomerReassigned merge;
  merge.set_customer_id("c1");
  merge.set_ledger_version(4);
  *merge.mutable_stats() =
      Stats(180000, 3, 90000, Jkt(2026, 1, 15, 10, 0), Jkt(2026, 3, 14, 23, 30));
  merge.set_source_customer_id("c2");
  merge.set_source_ledger_version(2);
  *merge.mutable_source_stats() = Stats(0, 0, 0);
  merge.add_moved_sale_ids("s3");
  ApplyLedger({EventOf(merge)});
  cv1::CustomerMerged merged;
  merged.set_source_customer_id("c2");
  merged.set_target_customer_id("c1");
  ApplyCustomers({EventOf(merged, "c2", 2)});
  auto after = reports_->GetReceivablesReport("t1", {}, absl::InfiniteFuture());
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->rows_size(), 1);
  EXPECT_EQ(after->rows(0).customer_id(), "c1");
  EXPECT_EQ(after->rows(0).balance().amount_minor(), 90000);
  EXPECT_EQ(after->rows(0).ledger_version(), 4);
  EXPECT_EQ(after->rows(0).aging().age_0_to_30_days().amount_minor(), 30000);
  v1::CustomerReport feb = CustomerReport(D(2026, 2, 1), D(2026, 2, 28));
  EXPECT_EQ(feb.total_customers(), 1);  // c1; c2 merged away, c3 created on Mar 1
  ASSERT_EQ(feb.top_customers_size(), 1);
  EXPECT_EQ(feb.top_customers(0).customer_id(), "c1");
  // Receivables over time do not change with a merge.
  EXPECT_EQ(
      Series(v1::SERIES_METRIC_RECEIVABLES, v1::GRANULARITY_MONTH, D(2026, 1, 1), D(2026, 3, 31)),
      (std::vector<int64_t>{100000, 130000, 90000}));
  // c1 pays the rest of s1: 30,000 remain, all on s3.
  lv1::PaymentRecorded p3;
  p3.set_customer_id("c1");
  p3.set_ledger_version(5);
  *p3.mutable_stats() = Stats(180000, 3, 30000);
  p3.mutable_payment()->set_payment_id("p3");
  p3.mutable_payment()->set_customer_id("c1");
  *p3.mutable_payment()->mutable_received_time() = time::ToTimestamp(Jkt(2026, 3, 15, 9, 30));
  *p3.add_affected_sales() = Position("s1", "c1", "A", Jkt(2026, 1, 15, 10, 0), 100000, 0,
                                      D(2026, 2, 14), lv1::SALE_STATUS_PAID);
  ApplyLedger({EventOf(p3)});
  auto paid = reports_->GetReceivablesReport("t1", {}, absl::InfiniteFuture());
  ASSERT_TRUE(paid.ok());
  ASSERT_EQ(paid->rows_size(), 1);
  EXPECT_EQ(paid->rows(0).balance().amount_minor(), 30000);
  EXPECT_EQ(paid->rows(0).overdue_amount().amount_minor(), 0);
  EXPECT_EQ(paid->rows(0).last_payment_date().day(), 15);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ReportQueriesTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::report::app
