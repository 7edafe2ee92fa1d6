// Group commit under more concurrent writers than a batch holds, through the real
// customer-svc and ledger-svc processes, on SQLite and PostgreSQL. A leader that ran the
// front of the queue without its own request once answered OK for writes it never made
// (and left a pointer to its finished frame behind: a crash a moment later). Here every
// OK must name a stored row, every stored row must have been answered OK, and the
// processes must still be running at the end of every round.
//
// Clients retry UNAVAILABLE and RESOURCE_EXHAUSTED (a full thread pool) with the same
// request_id, as a device does; idempotency makes a retry of a stored write answer the
// original response, so "stored exactly once" holds even for retried writes.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

constexpr char kTenant[] = "toko-stress";

bool Retryable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

// Calls `call` until it answers something other than a retryable error.
template <typename Call>
grpc::Status WithRetries(Call call) {
  grpc::Status status;
  for (int attempt = 0; attempt < 100; ++attempt) {
    status = call();
    if (!Retryable(status)) return status;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return status;
}

// `writers` threads each make one write per round, all released at once.
template <typename Write>
void Rounds(int writers, int rounds, Write write) {
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> waiting{writers};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        waiting.fetch_sub(1);
        while (waiting.load() > 0) std::this_thread::yield();
        write(round, w);
      });
    }
    for (auto& t : threads) t.join();
  }
}

class GroupCommitStressTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("kelola-gc-stress");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  // customer-svc and ledger-svc wired to each other, both with `batch_flag`: ledger-svc
  // asks customer-svc for tenant settings and customers, customer-svc asks it to seal.
  void StartServices(const std::string& batch_flag) {
    auto customer_db = DatabaseUrl(GetParam(), *dir_, "customers");
    ASSERT_TRUE(customer_db.ok()) << customer_db.status();
    auto ledger_db = DatabaseUrl(GetParam(), *dir_, "ledger");
    ASSERT_TRUE(ledger_db.ok()) << ledger_db.status();
    auto services =
        StartCustomerAndLedger(dir_->path(), *customer_db, *ledger_db, {batch_flag}, {batch_flag});
    ASSERT_TRUE(services.ok()) << services.status();
    customer_ = std::move(services->customer);
    ledger_ = std::move(services->ledger);
  }

  // Creates customers from `writers` threads per round; checks the directory holds
  // exactly the acknowledged ones.
  void StressCreates(const std::string& batch_flag, int writers, int rounds) {
    ASSERT_NO_FATAL_FAILURE(StartServices(batch_flag));
    auto stub = cv1::CustomerService::NewStub(
        grpc::CreateChannel(customer_->address(), grpc::InsecureChannelCredentials()));
    absl::Mutex mu;
    std::set<std::string> acknowledged;
    std::atomic<int> failures{0};
    Rounds(writers, rounds, [&](int round, int w) {
      cv1::CreateCustomerRequest request;
      request.set_request_id(absl::StrCat("create-", round, "-", w));
      request.mutable_customer()->set_display_name(absl::StrCat("Pelanggan ", round, " ", w));
      cv1::CreateCustomerResponse response;
      grpc::Status status = WithRetries([&] {
        response.Clear();
        return stub->CreateCustomer(TenantContext(kTenant, absl::Seconds(30)).get(), request,
                                    &response);
      });
      if (!status.ok() || response.customer().customer_id().empty()) {
        failures.fetch_add(1);
        ADD_FAILURE() << "create " << request.request_id() << ": " << status.error_message()
                      << " id='" << response.customer().customer_id() << "'";
        return;
      }
      absl::MutexLock lock(&mu);
      EXPECT_TRUE(acknowledged.insert(response.customer().customer_id()).second)
          << "one id acknowledged twice: " << response.customer().customer_id();
    });
    ASSERT_TRUE(customer_->IsRunning()) << customer_->LogTail();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(ListAllCustomers(*stub), acknowledged);
  }

  std::set<std::string> ListAllCustomers(cv1::CustomerService::Stub& stub) {
    std::set<std::string> stored;
    cv1::ListCustomersRequest request;
    request.set_page_size(500);
    do {
      cv1::ListCustomersResponse response;
      grpc::Status status =
          stub.ListCustomers(TenantContext(kTenant, absl::Seconds(30)).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& c : response.customers()) {
        EXPECT_TRUE(stored.insert(c.customer_id()).second) << "listed twice: " << c.customer_id();
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return stored;
  }

  // Records walk-in sales from `writers` threads per round; checks the ledger holds
  // exactly the acknowledged ones.
  void StressSales(const std::string& batch_flag, int writers, int rounds) {
    ASSERT_NO_FATAL_FAILURE(StartServices(batch_flag));
    auto stub = lv1::LedgerService::NewStub(
        grpc::CreateChannel(ledger_->address(), grpc::InsecureChannelCredentials()));
    absl::Mutex mu;
    std::set<std::string> acknowledged;
    std::atomic<int> failures{0};
    Rounds(writers, rounds, [&](int round, int w) {
      lv1::RecordSaleRequest request = WalkInSale(absl::StrCat("sale-", round, "-", w));
      lv1::RecordSaleResponse response;
      grpc::Status status = WithRetries([&] {
        response.Clear();
        return stub->RecordSale(TenantContext(kTenant, absl::Seconds(30)).get(), request,
                                &response);
      });
      if (!status.ok() || response.sale().sale_id().empty()) {
        failures.fetch_add(1);
        ADD_FAILURE() << "sale " << request.request_id() << ": " << status.error_message()
                      << " id='" << response.sale().sale_id() << "'";
        return;
      }
      absl::MutexLock lock(&mu);
      EXPECT_TRUE(acknowledged.insert(response.sale().sale_id()).second)
          << "one id acknowledged twice: " << response.sale().sale_id();
    });
    ASSERT_TRUE(ledger_->IsRunning()) << ledger_->LogTail();
    ASSERT_TRUE(customer_->IsRunning()) << customer_->LogTail();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(ListAllSales(*stub), acknowledged);
  }

  static lv1::RecordSaleRequest WalkInSale(const std::string& request_id) {
    lv1::RecordSaleRequest request;
    request.set_request_id(request_id);
    request.set_store_id("toko-1");
    auto* item = request.add_items();
    item->set_sku("TEH-1");
    item->set_name("Teh botol");
    item->set_quantity_milli(1000);
    item->mutable_unit_price()->set_amount_minor(500000);
    item->mutable_unit_price()->set_currency_code("IDR");
    *request.mutable_total() = item->unit_price();
    *request.mutable_amount_paid_now() = item->unit_price();
    request.set_payment_method(lv1::PAYMENT_METHOD_CASH);
    return request;
  }

  std::set<std::string> ListAllSales(lv1::LedgerService::Stub& stub) {
    std::set<std::string> stored;
    lv1::ListSalesRequest request;
    request.set_page_size(200);
    do {
      lv1::ListSalesResponse response;
      grpc::Status status =
          stub.ListSales(TenantContext(kTenant, absl::Seconds(30)).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& s : response.sales()) {
        EXPECT_TRUE(stored.insert(s.sale_id()).second) << "listed twice: " << s.sale_id();
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return stored;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ServiceProcess> customer_;
  std::unique_ptr<ServiceProcess> ledger_;
};

TEST_P(GroupCommitStressTest, CreatesFromSixtyFourWritersThroughBatchesOfFour) {
  StressCreates("--group_commit_max_batch=4", /*writers=*/64, /*rounds=*/25);
}

TEST_P(GroupCommitStressTest, CreatesFromThreeHundredWritersAtTheDefaultBatch) {
  StressCreates("--group_commit=true", /*writers=*/300, /*rounds=*/8);
}

TEST_P(GroupCommitStressTest, SalesFromSixtyFourWritersThroughBatchesOfFour) {
  StressSales("--group_commit_max_batch=4", /*writers=*/64, /*rounds=*/25);
}

TEST_P(GroupCommitStressTest, SalesFromThreeHundredWritersAtTheDefaultBatch) {
  StressSales("--group_commit=true", /*writers=*/300, /*rounds=*/8);
}

INSTANTIATE_TEST_SUITE_P(Drivers, GroupCommitStressTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
