// The real ledger-svc binary, killed with SIGKILL while clients record sales: every sale
// it acknowledged is there after the restart, exactly once, and a retry with the same
// request_id returns the original sale (L6, durability). SQLite file and PostgreSQL.

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::ledger {
namespace {

testing::PostgresServer* postgres = nullptr;

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = testing::PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    postgres = server_.get();
  }
  void TearDown() override {
    postgres = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<testing::PostgresServer> server_;
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

v1::RecordSaleRequest WalkInSale(const std::string& request_id, int64_t amount) {
  v1::RecordSaleRequest r;
  r.set_request_id(request_id);
  r.set_store_id("store-1");
  auto* item = r.add_items();
  item->set_name("Kopi");
  item->set_quantity_milli(1000);
  item->mutable_unit_price()->set_amount_minor(amount);
  item->mutable_unit_price()->set_currency_code("IDR");
  r.mutable_total()->set_amount_minor(amount);
  r.mutable_total()->set_currency_code("IDR");
  r.mutable_amount_paid_now()->set_amount_minor(amount);
  r.mutable_amount_paid_now()->set_currency_code("IDR");
  r.set_payment_method(v1::PAYMENT_METHOD_CASH);
  return r;
}

class LedgerCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LedgerCrashTest, AcknowledgedSalesSurviveKill9) {
  auto dir = testing::TempDir::Create("kelola-ledger-crash");
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::string url;
  if (GetParam() == "sqlite") {
    url = absl::StrCat("sqlite:", (*dir)->path(), "/ledger.db");
  } else {
    auto created = postgres->CreateUniqueDatabase("ledger_crash");
    ASSERT_TRUE(created.ok()) << created.status();
    url = *created;
  }
  // customer-svc answers the tenant's currency and time zone (the ledger takes them from
  // nobody else); walk-in sales need nothing more from it.
  auto customer = testing::ServiceProcess::Start(
      {"customer-svc",
       {absl::StrCat("--db=sqlite:", (*dir)->path(), "/customers.db"), "--ledger=127.0.0.1:1"},
       (*dir)->path()});
  ASSERT_TRUE(customer.ok()) << customer.status();
  testing::ServiceProcessOptions options;
  options.name = "ledger-svc";
  options.args = {absl::StrCat("--db=", url), "--customer=" + (*customer)->address()};
  options.log_dir = (*dir)->path();
  auto service = testing::ServiceProcess::Start(options);
  ASSERT_TRUE(service.ok()) << service.status();
  auto channel = grpc::CreateChannel((*service)->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::LedgerService::NewStub(channel);

  std::mutex mu;
  std::map<std::string, std::string> acked;  // request_id -> sale_id
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string request_id = absl::StrCat("c", c, "-", i);
        grpc::ClientContext ctx;
        ctx.AddMetadata("x-kelola-tenant", "t1");
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        v1::RecordSaleResponse resp;
        if (stub->RecordSale(&ctx, WalkInSale(request_id, 100 + c), &resp).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acked[request_id] = resp.sale().sale_id();
        }
      }
    });
  }
  // Let some sales through, then crash the service mid-stream.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acked.size() >= 40) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE((*service)->Kill().ok());
  stop.store(true);
  for (auto& t : clients) t.join();
  ASSERT_GE(acked.size(), 40u) << (*service)->LogTail();
  ASSERT_TRUE((*service)->Restart().ok()) << (*service)->LogTail();

  // Every acknowledged sale replays to the same sale.
  for (const auto& [request_id, sale_id] : acked) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-kelola-tenant", "t1");
    const int c = request_id[1] - '0';
    v1::RecordSaleResponse resp;
    grpc::Status status = stub->RecordSale(&ctx, WalkInSale(request_id, 100 + c), &resp);
    ASSERT_TRUE(status.ok()) << request_id << ": " << status.error_message();
    EXPECT_EQ(resp.sale().sale_id(), sale_id) << request_id;
  }
  // No sale twice: the journal holds each request_id at most once.
  std::map<std::string, int> seen;
  v1::ListSalesRequest list;
  list.set_page_size(200);
  while (true) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-kelola-tenant", "t1");
    v1::ListSalesResponse page;
    ASSERT_TRUE(stub->ListSales(&ctx, list, &page).ok());
    for (const auto& sale : page.sales()) ++seen[sale.request_id()];
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  for (const auto& [request_id, count] : seen) EXPECT_EQ(count, 1) << request_id;
  for (const auto& [request_id, sale_id] : acked) EXPECT_EQ(seen.count(request_id), 1u);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerCrashTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::ledger
