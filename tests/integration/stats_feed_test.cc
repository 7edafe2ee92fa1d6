// The stats feed end to end, with real processes: sales and payments recorded in
// ledger-svc reach customer-svc's projection through the event stream, so that lists
// filter and sort by them. A burst of writes from several clients with a kill -9 of
// customer-svc in the middle still ends with the projection equal to the ledger's own
// stats for every customer. SQLite and PostgreSQL.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/testing/service_process.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;

class StatsFeedTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("kelola-stats-feed");
    ASSERT_TRUE(dir.ok());
    dir_ = *std::move(dir);
    auto customer_db = DatabaseUrl(GetParam(), *dir_, "customers");
    auto ledger_db = DatabaseUrl(GetParam(), *dir_, "ledger");
    ASSERT_TRUE(customer_db.ok() && ledger_db.ok());
    auto services = StartCustomerAndLedger(dir_->path(), *customer_db, *ledger_db);
    ASSERT_TRUE(services.ok()) << services.status();
    customer_ = std::move(services->customer);
    ledger_ = std::move(services->ledger);
    customers_ = cv1::CustomerService::NewStub(
        grpc::CreateChannel(customer_->address(), grpc::InsecureChannelCredentials()));
    ledger_stub_ = lv1::LedgerService::NewStub(
        grpc::CreateChannel(ledger_->address(), grpc::InsecureChannelCredentials()));
  }

  std::string CreateCustomer(const std::string& name, int n) {
    cv1::CreateCustomerRequest request;
    request.mutable_customer()->set_display_name(name);
    request.mutable_customer()->mutable_phone()->set_raw(absl::StrCat("0812-7000-", 1000 + n));
    cv1::CreateCustomerResponse response;
    grpc::Status status =
        customers_->CreateCustomer(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.customer().customer_id();
  }

  // A credit sale of `total`, of which `paid` is paid now; retried with the same
  // request_id until acknowledged (customer-svc may be down for a moment).
  void Sale(const std::string& request_id, const std::string& customer, int64_t total,
            int64_t paid) {
    lv1::RecordSaleRequest request;
    request.set_request_id(request_id);
    request.set_customer_id(customer);
    request.set_store_id("toko-1");
    auto* item = request.add_items();
    item->set_sku("BERAS-5KG");
    item->set_name("Beras 5 kg");
    item->set_quantity_milli(1000);
    *item->mutable_unit_price() = Idr(total);
    *request.mutable_total() = Idr(total);
    *request.mutable_amount_paid_now() = Idr(paid);
    request.set_payment_method(lv1::PAYMENT_METHOD_CASH);
    for (int attempt = 0; attempt < 200; ++attempt) {
      lv1::RecordSaleResponse response;
      grpc::Status status =
          ledger_stub_->RecordSale(TenantContext("toko-ani").get(), request, &response);
      if (status.ok()) return;
      ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "sale " << request_id << " never acknowledged";
  }

  // Customers as customer-svc lists them, with their projected stats.
  std::map<std::string, cv1::CustomerStats> Projection() {
    cv1::ListCustomersRequest request;
    request.set_page_size(500);
    cv1::ListCustomersResponse response;
    grpc::Status status =
        customers_->ListCustomers(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, cv1::CustomerStats> out;
    for (const auto& c : response.customers()) out[c.customer_id()] = c.stats();
    return out;
  }

  lv1::CustomerLedgerStats LedgerStats(const std::string& customer) {
    lv1::GetCustomerLedgerStatsRequest request;
    request.set_customer_id(customer);
    lv1::GetCustomerLedgerStatsResponse response;
    grpc::Status status =
        ledger_stub_->GetCustomerLedgerStats(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.stats();
  }

  // Waits until the projection has caught up with the ledger for every customer, then
  // compares them field by field.
  void ExpectProjectionEqualsLedger(const std::vector<std::string>& ids) {
    std::map<std::string, lv1::CustomerLedgerStats> truth;
    for (const auto& id : ids) truth[id] = LedgerStats(id);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::map<std::string, cv1::CustomerStats> projected;
    while (absl::Now() < deadline) {
      projected = Projection();
      bool caught_up = true;
      for (const auto& id : ids) {
        caught_up = caught_up && projected[id].ledger_version() == truth[id].ledger_version();
      }
      if (caught_up) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    for (const auto& id : ids) {
      SCOPED_TRACE(id);
      EXPECT_EQ(projected[id].ledger_version(), truth[id].ledger_version());
      EXPECT_EQ(projected[id].total_spent().amount_minor(), truth[id].total_spent().amount_minor());
      // customer-svc's balance is what is owed minus the credit held (balance.proto).
      EXPECT_EQ(projected[id].balance().amount_minor(),
                truth[id].balance().amount_minor() - truth[id].credit().amount_minor());
      EXPECT_EQ(projected[id].transaction_count(), truth[id].transaction_count());
      EXPECT_EQ(projected[id].last_purchase_time().seconds(),
                truth[id].last_purchase_time().seconds());
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServiceProcess> customer_;
  std::unique_ptr<ServiceProcess> ledger_;
  std::unique_ptr<cv1::CustomerService::Stub> customers_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_stub_;
};

TEST_P(StatsFeedTest, SalesReachListsFiltersAndSorts) {
  const std::string budi = CreateCustomer("Budi Santoso", 1);
  const std::string siti = CreateCustomer("Siti Nurhaliza", 2);
  CreateCustomer("Agus Salim", 3);
  Sale("s1", budi, 15000000, 5000000);   // owes 100.000,00
  Sale("s2", siti, 30000000, 30000000);  // paid in full, spent more
  ExpectProjectionEqualsLedger({budi, siti});

  cv1::ListCustomersRequest owing;
  owing.set_filter("has_balance = true");
  cv1::ListCustomersResponse response;
  ASSERT_TRUE(customers_->ListCustomers(TenantContext("toko-ani").get(), owing, &response).ok());
  ASSERT_EQ(response.customers_size(), 1);
  EXPECT_EQ(response.customers(0).customer_id(), budi);
  EXPECT_EQ(response.customers(0).stats().balance().amount_minor(), 10000000);

  cv1::ListCustomersRequest by_spend;
  by_spend.set_order_by("total_spent desc");
  ASSERT_TRUE(customers_->ListCustomers(TenantContext("toko-ani").get(), by_spend, &response).ok());
  ASSERT_EQ(response.customers_size(), 3);
  EXPECT_EQ(response.customers(0).customer_id(), siti);
  EXPECT_EQ(response.customers(1).customer_id(), budi);

  cv1::ListCustomersRequest never_bought;
  never_bought.set_filter("no_transactions = true");
  ASSERT_TRUE(
      customers_->ListCustomers(TenantContext("toko-ani").get(), never_bought, &response).ok());
  ASSERT_EQ(response.customers_size(), 1);
  EXPECT_EQ(response.customers(0).display_name(), "Agus Salim");
}

TEST_P(StatsFeedTest, ProjectionEqualsTheLedgerAfterABurstAndAKill9) {
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(CreateCustomer(absl::StrCat("Pelanggan ", i), i));
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 30; ++i) {
        const std::string& customer = ids[(c * 7 + i) % ids.size()];
        Sale(absl::StrCat("burst-", c, "-", i), customer, 1000000 + 1000 * i, (i % 3) * 100000);
        done.fetch_add(1);
      }
    });
  }
  // Crash customer-svc in the middle of the burst, and bring it back.
  while (done.load() < 40) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(customer_->Kill().ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(customer_->Restart().ok()) << customer_->LogTail();
  for (auto& t : clients) t.join();
  ExpectProjectionEqualsLedger(ids);
}

INSTANTIATE_TEST_SUITE_P(Drivers, StatsFeedTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
