// GetSummaryCard and BatchGetSummaryCards through a real gRPC server over a SQLite read
// model fed with ledger events, a fake clock and fixed tenant settings (Asia/Jakarta).

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/ledger/v1/events.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/testing/temp_dir.h"
#include "libs/time/time.h"
#include "report-svc/api/report_service.h"
#include "report-svc/api/summary_card_reader.h"
#include "report-svc/api/tenant_settings.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/store/migrations.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report {
namespace {

const absl::TimeZone kJakarta = absl::FixedTimeZone(7 * 3600);

class FixedSettings final : public TenantSettingsSource {
 public:
  absl::StatusOr<TenantSettings> Get(const std::string&, absl::Time) override {
    return TenantSettings{"IDR", kJakarta};
  }
};

absl::Time Jakarta(int y, int m, int d, int hh, int mm) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), kJakarta);
}

ledger::v1::SaleRecorded Sale(int64_t version, int64_t spent, int64_t count, int64_t balance,
                              absl::Time last, const std::string& sale_id, int64_t outstanding,
                              absl::CivilDay due) {
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id("c1");
  sale.set_ledger_version(version);
  auto* s = sale.mutable_stats();
  s->mutable_total_spent()->set_amount_minor(spent);
  s->mutable_total_spent()->set_currency_code("IDR");
  s->set_transaction_count(count);
  s->mutable_average_order()->set_amount_minor((spent + count / 2) / count);
  s->mutable_balance()->set_amount_minor(balance);
  *s->mutable_first_purchase_time() = time::ToTimestamp(Jakarta(2026, 1, 1, 9, 0));
  *s->mutable_last_purchase_time() = time::ToTimestamp(last);
  auto* p = sale.add_affected_sales();
  p->set_sale_id(sale_id);
  p->set_customer_id("c1");
  p->mutable_outstanding()->set_amount_minor(outstanding);
  *p->mutable_due_date() = time::ToDate(due);
  return sale;
}

type::v1::Event EventOf(int64_t sequence, const ledger::v1::SaleRecorded& sale) {
  type::v1::Event event;
  event.set_sequence(sequence);
  event.set_tenant_id("t1");
  event.mutable_payload()->PackFrom(sale);
  return event;
}

class SummaryCardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-card-api");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto db = db::Open(absl::StrCat("sqlite:", dir_->path(), "/report.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
    clock_.Set(Jakarta(2026, 1, 5, 10, 0));
    SummaryCardReaderOptions options;
    options.max_wait = absl::Milliseconds(300);
    facts_ = std::make_unique<store::FactIndex>(*db_);
    reader_ = std::make_unique<SummaryCardReader>(*db_, *facts_, clock_, settings_, options);
    reports_ = std::make_unique<app::ReportQueries>(*db_, *facts_, clock_, settings_);
    exporter_ = std::make_unique<app::ReportExporter>(*reports_, clock_);
    service_ = std::make_unique<ReportService>(*reader_, *reports_, *exporter_, settings_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ReportService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  void Apply(const std::vector<type::v1::Event>& events) {
    auto applied = store::ApplyBatch(*db_, store::kCardConsumer, store::kLedgerProducer, events);
    ASSERT_TRUE(applied.ok()) << applied.status();
  }

  // Two sales of c1: one due 2026-01-03 with 3000 open, one due 2026-01-10 with 2000 open.
  void RecordTwoSales() {
    Apply({EventOf(1, Sale(1, 3000, 1, 3000, Jakarta(2026, 1, 1, 9, 0), "s1", 3000,
                           absl::CivilDay(2026, 1, 3))),
           EventOf(2, Sale(2, 5000, 2, 5000, Jakarta(2026, 1, 2, 23, 30), "s2", 2000,
                           absl::CivilDay(2026, 1, 10)))});
  }

  grpc::Status Get(const std::string& id, int64_t min_version, v1::GetSummaryCardResponse* out,
                   const std::string& tenant = "t1") {
    grpc::ClientContext context;
    if (!tenant.empty()) context.AddMetadata("x-kelola-tenant", tenant);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetSummaryCardRequest request;
    request.set_customer_id(id);
    request.set_min_ledger_version(min_version);
    return stub_->GetSummaryCard(&context, request, out);
  }

  grpc::Status BatchGet(const v1::BatchGetSummaryCardsRequest& request,
                        v1::BatchGetSummaryCardsResponse* out) {
    grpc::ClientContext context;
    context.AddMetadata("x-kelola-tenant", "t1");
    return stub_->BatchGetSummaryCards(&context, request, out);
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
  FakeClock clock_;
  FixedSettings settings_;
  std::unique_ptr<SummaryCardReader> reader_;
  std::unique_ptr<store::FactIndex> facts_;
  std::unique_ptr<app::ReportQueries> reports_;
  std::unique_ptr<app::ReportExporter> exporter_;
  std::unique_ptr<ReportService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ReportService::Stub> stub_;
};

TEST_F(SummaryCardApiTest, AnUnknownCustomerHasAnEmptyCard) {
  v1::GetSummaryCardResponse response;
  ASSERT_TRUE(Get("nobody", 0, &response).ok());
  const v1::SummaryCard& card = response.card();
  EXPECT_EQ(card.customer_id(), "nobody");
  EXPECT_EQ(card.ledger_version(), 0);
  EXPECT_EQ(card.total_spent().amount_minor(), 0);
  EXPECT_EQ(card.total_spent().currency_code(), "IDR");
  EXPECT_EQ(card.transaction_count(), 0);
  EXPECT_FALSE(card.has_first_purchase_time());
  EXPECT_FALSE(card.has_days_since_last_purchase());
  EXPECT_EQ(time::ToCivilDay(card.as_of_date()), absl::CivilDay(2026, 1, 5));
}

TEST_F(SummaryCardApiTest, TheCardShowsTheLedgerStatsAndReadTimeFigures) {
  RecordTwoSales();
  v1::GetSummaryCardResponse response;
  ASSERT_TRUE(Get("c1", 0, &response).ok());
  const v1::SummaryCard& card = response.card();
  EXPECT_EQ(card.ledger_version(), 2);
  EXPECT_EQ(card.total_spent().amount_minor(), 5000);
  EXPECT_EQ(card.transaction_count(), 2);
  EXPECT_EQ(card.average_order().amount_minor(), 2500);
  EXPECT_EQ(card.balance().amount_minor(), 5000);
  EXPECT_EQ(time::ToTime(card.first_purchase_time()), Jakarta(2026, 1, 1, 9, 0));
  EXPECT_EQ(time::ToTime(card.last_purchase_time()), Jakarta(2026, 1, 2, 23, 30));
  // 23:30 on 2 January in Jakarta (16:30 UTC) to 5 January: three days.
  EXPECT_EQ(card.days_since_last_purchase(), 3);
  EXPECT_EQ(card.overdue_amount().amount_minor(), 3000);  // s1, due on the 3rd
  EXPECT_EQ(card.days_overdue(), 2);
  EXPECT_EQ(card.segment(), v1::CUSTOMER_SEGMENT_UNSPECIFIED);

  // The overdue figures follow the clock, not the day of the last event.
  clock_.Set(Jakarta(2026, 1, 12, 0, 30));
  ASSERT_TRUE(Get("c1", 0, &response).ok());
  EXPECT_EQ(response.card().overdue_amount().amount_minor(), 5000);
  EXPECT_EQ(response.card().days_overdue(), 9);
  EXPECT_EQ(response.card().days_since_last_purchase(), 10);
  EXPECT_EQ(time::ToCivilDay(response.card().as_of_date()), absl::CivilDay(2026, 1, 12));
}

TEST_F(SummaryCardApiTest, MinLedgerVersionWaitsThenReportsLagging) {
  RecordTwoSales();
  v1::GetSummaryCardResponse response;
  ASSERT_TRUE(Get("c1", 2, &response).ok());
  const absl::Time start = absl::Now();
  grpc::Status lagging = Get("c1", 3, &response);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));  // it waited
  EXPECT_EQ(lagging.error_code(), grpc::StatusCode::UNAVAILABLE);
  absl::Status status = errors::FromGrpcStatus(lagging);
  EXPECT_EQ(errors::Reason(status), "PROJECTION_LAGGING");
  EXPECT_EQ(errors::GetMetadata(status)["min_ledger_version"], "3");
  EXPECT_EQ(errors::GetMetadata(status)["ledger_version"], "2");
  EXPECT_EQ(errors::GetMetadata(status)["customer_id"], "c1");
}

TEST_F(SummaryCardApiTest, MinLedgerVersionIsAnsweredOnceApplied) {
  RecordTwoSales();
  std::thread writer([this] {
    absl::SleepFor(absl::Milliseconds(100));
    Apply({EventOf(3, Sale(3, 6000, 3, 6000, Jakarta(2026, 1, 4, 8, 0), "s3", 1000,
                           absl::CivilDay(2026, 2, 1)))});
  });
  v1::GetSummaryCardResponse response;
  grpc::Status status = Get("c1", 3, &response);
  writer.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.card().ledger_version(), 3);
  EXPECT_EQ(response.card().total_spent().amount_minor(), 6000);
}

TEST_F(SummaryCardApiTest, BatchAnswersInRequestOrderWithDuplicates) {
  RecordTwoSales();
  v1::BatchGetSummaryCardsRequest request;
  for (const char* id : {"x", "c1", "x", "c1"}) request.add_customer_ids(id);
  (*request.mutable_min_ledger_versions())["c1"] = 2;
  v1::BatchGetSummaryCardsResponse response;
  ASSERT_TRUE(BatchGet(request, &response).ok());
  ASSERT_EQ(response.cards_size(), 4);
  EXPECT_EQ(response.cards(0).customer_id(), "x");
  EXPECT_EQ(response.cards(0).ledger_version(), 0);
  EXPECT_EQ(response.cards(1).total_spent().amount_minor(), 5000);
  EXPECT_EQ(response.cards(3).total_spent().amount_minor(), 5000);

  (*request.mutable_min_ledger_versions())["x"] = 1;
  grpc::Status lagging = BatchGet(request, &response);
  EXPECT_EQ(lagging.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(errors::GetMetadata(errors::FromGrpcStatus(lagging))["customer_id"], "x");
}

TEST_F(SummaryCardApiTest, BatchRefusesBadRequests) {
  v1::BatchGetSummaryCardsRequest request;
  v1::BatchGetSummaryCardsResponse response;
  grpc::Status none = BatchGet(request, &response);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Violations(errors::FromGrpcStatus(none)).at(0).field, "customer_ids");

  request.add_customer_ids("c1");
  request.add_customer_ids("");
  (*request.mutable_min_ledger_versions())["c1"] = -1;
  grpc::Status bad = BatchGet(request, &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(errors::FromGrpcStatus(bad))) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"customer_ids[1]", "min_ledger_versions[c1]"}));

  v1::BatchGetSummaryCardsRequest many;
  for (int i = 0; i < 101; ++i) many.add_customer_ids(absl::StrCat("c", i));
  grpc::Status too_many = BatchGet(many, &response);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::Status status = errors::FromGrpcStatus(too_many);
  EXPECT_EQ(errors::Reason(status), "TOO_MANY_ITEMS");
  EXPECT_EQ(errors::GetMetadata(status)["max"], "100");
}

TEST_F(SummaryCardApiTest, GetRefusesBadRequestsAndCallsWithoutTenant) {
  v1::GetSummaryCardResponse response;
  grpc::Status empty = Get("", -1, &response);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(errors::FromGrpcStatus(empty))) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"customer_id", "min_ledger_version"}));
  EXPECT_EQ(Get("c1", 0, &response, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace kelola::report
