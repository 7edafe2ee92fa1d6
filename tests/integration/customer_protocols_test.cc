// The cross-service protocols between customer-svc and ledger-svc (ARCHITECTURE.md), with
// real processes on SQLite and PostgreSQL:
// - delete (C4): many sales racing one delete, repeated: afterwards the customer either
//   exists with its sales or is deleted with none, never both, and never stuck sealed;
// - merge (C7): kill -9 of customer-svc with ledger-svc down, after the ledger moved the
//   history but before customer-svc finalized, and at random moments; every merge
//   completes exactly once: the ledger moved each history once, the survivor received each
//   source's data once, and the stats projection equals the ledger.

#include <atomic>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_internal_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/errors/errors.h"
#include "libs/testing/free_port.h"
#include "libs/testing/process.h"
#include "libs/testing/service_process.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;

std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout = absl::Seconds(10)) {
  auto context = TenantContext("toko-ani", timeout);
  context->AddMetadata("x-kelola-principal", "owner");
  return context;
}

std::string Reason(const grpc::Status& status) {
  return errors::Reason(errors::FromGrpcStatus(status));
}

class CustomerProtocolsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("kelola-protocols");
    ASSERT_TRUE(dir.ok());
    dir_ = *std::move(dir);
    auto customer_db = DatabaseUrl(GetParam(), *dir_, "customers");
    auto ledger_db = DatabaseUrl(GetParam(), *dir_, "ledger");
    ASSERT_TRUE(customer_db.ok() && ledger_db.ok());
    ledger_db_ = *ledger_db;
    // Each service needs the other's address: customer-svc starts with a ledger address
    // that comes alive a moment later.
    auto ledger_port = PickFreePort();
    ASSERT_TRUE(ledger_port.ok());
    ledger_address_ = absl::StrCat("127.0.0.1:", *ledger_port);
    auto customer = ServiceProcess::Start(
        {"customer-svc",
         {"--db=" + *customer_db, "--ledger=" + ledger_address_, "--resume_interval=200ms"},
         dir_->path()});
    ASSERT_TRUE(customer.ok()) << customer.status();
    customer_ = *std::move(customer);
    StartLedger();
    customers_ = cv1::CustomerService::NewStub(
        grpc::CreateChannel(customer_->address(), grpc::InsecureChannelCredentials()));
    auto ledger_channel = grpc::CreateChannel(ledger_address_, grpc::InsecureChannelCredentials());
    ledger_ = lv1::LedgerService::NewStub(ledger_channel);
    ledger_internal_ = lv1::LedgerInternalService::NewStub(ledger_channel);
  }

  void StartLedger() {
    ProcessOptions options;
    options.argv = {absl::StrCat(std::getenv("KELOLA_BUILD_DIR"), "/ledger-svc/ledger-svc"),
                    "--listen=" + ledger_address_, "--db=" + ledger_db_,
                    "--customer=" + customer_->address(), "--trust_tenant_header"};
    options.log_path = dir_->Join(absl::StrCat("ledger-svc-", ++ledger_starts_, ".log"));
    auto ledger = Process::Start(std::move(options));
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_process_ = *std::move(ledger);
    ASSERT_TRUE(WaitForServing(ledger_address_, absl::Seconds(20)).ok());
  }

  void KillLedger() {
    ASSERT_TRUE(ledger_process_->Kill(SIGKILL).ok());
    (void)ledger_process_->Wait(absl::Seconds(10));
    ledger_process_.reset();
  }

  std::string CreateCustomer(const std::string& name, const std::string& phone,
                             const std::string& notes = "") {
    cv1::CreateCustomerRequest request;
    request.mutable_customer()->set_display_name(name);
    request.mutable_customer()->set_notes(notes);
    request.mutable_customer()->mutable_phone()->set_raw(phone);
    cv1::CreateCustomerResponse response;
    grpc::Status status = customers_->CreateCustomer(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.customer().customer_id();
  }

  grpc::Status Sale(const std::string& request_id, const std::string& customer, int64_t total,
                    int64_t paid) {
    lv1::RecordSaleRequest request;
    request.set_request_id(request_id);
    request.set_customer_id(customer);
    request.set_store_id("toko-1");
    auto* item = request.add_items();
    item->set_sku("GULA-1KG");
    item->set_name("Gula 1 kg");
    item->set_quantity_milli(1000);
    *item->mutable_unit_price() = Idr(total);
    *request.mutable_total() = Idr(total);
    if (paid > 0) {
      *request.mutable_amount_paid_now() = Idr(paid);
      request.set_payment_method(lv1::PAYMENT_METHOD_CASH);
    }
    lv1::RecordSaleResponse response;
    return ledger_->RecordSale(Ctx().get(), request, &response);
  }

  int SalesOf(const std::string& customer) {
    lv1::ListSalesRequest request;
    request.set_customer_id(customer);
    request.set_page_size(500);
    lv1::ListSalesResponse response;
    grpc::Status status = ledger_->ListSales(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.sales_size();
  }

  grpc::Status GetCustomer(const std::string& id, cv1::Customer* out = nullptr) {
    cv1::GetCustomerRequest request;
    request.set_customer_id(id);
    cv1::GetCustomerResponse response;
    grpc::Status status = customers_->GetCustomer(Ctx().get(), request, &response);
    if (out != nullptr) *out = response.customer();
    return status;
  }

  lv1::CustomerLedgerStats LedgerStats(const std::string& customer) {
    lv1::GetCustomerLedgerStatsRequest request;
    request.set_customer_id(customer);
    lv1::GetCustomerLedgerStatsResponse response;
    grpc::Status status = ledger_->GetCustomerLedgerStats(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.stats();
  }

  // MergeCustomers, retried with the same request_id while customer-svc is unreachable.
  cv1::MergeOperation Merge(const std::string& source, const std::string& target,
                            const std::string& request_id) {
    cv1::MergeCustomersRequest request;
    request.set_source_customer_id(source);
    request.set_target_customer_id(target);
    request.set_request_id(request_id);
    for (int attempt = 0; attempt < 300; ++attempt) {
      cv1::MergeCustomersResponse response;
      grpc::Status status = customers_->MergeCustomers(Ctx().get(), request, &response);
      if (status.ok()) return response.merge_operation();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "merge " << request_id << " never answered";
    return {};
  }

  // Polls GetMergeOperation until the operation is finished.
  cv1::MergeOperation AwaitFinished(const std::string& id) {
    cv1::GetMergeOperationRequest request;
    request.set_merge_operation_id(id);
    cv1::GetMergeOperationResponse response;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      grpc::Status status = customers_->GetMergeOperation(Ctx().get(), request, &response);
      if (status.ok() &&
          (response.merge_operation().state() == cv1::MERGE_OPERATION_STATE_SUCCEEDED ||
           response.merge_operation().state() == cv1::MERGE_OPERATION_STATE_FAILED)) {
        return response.merge_operation();
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "merge operation " << id << " did not finish";
    return response.merge_operation();
  }

  std::unique_ptr<TempDir> dir_;
  std::string ledger_db_;
  std::string ledger_address_;
  int ledger_starts_ = 0;
  std::unique_ptr<ServiceProcess> customer_;
  std::unique_ptr<Process> ledger_process_;
  std::unique_ptr<cv1::CustomerService::Stub> customers_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_;
  std::unique_ptr<lv1::LedgerInternalService::Stub> ledger_internal_;
};

TEST_P(CustomerProtocolsTest, SalesRacingADeleteNeverEndBothWays) {
  int deleted_rounds = 0, kept_rounds = 0;
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string id =
        CreateCustomer(absl::StrCat("Pelanggan ", round), absl::StrCat("0812-5000-", 1000 + round));
    std::atomic<bool> go{false};
    std::atomic<int> sales_ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        // Spread over the delete's two steps.
        absl::SleepFor(absl::Microseconds(300 * t));
        grpc::Status s = Sale(absl::StrCat("race-", round, "-", t), id, 500000, 0);
        if (s.ok()) {
          sales_ok.fetch_add(1);
        } else {
          EXPECT_TRUE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                      s.error_code() == grpc::StatusCode::NOT_FOUND)
              << s.error_message();
        }
      });
    }
    grpc::Status deleted;
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      absl::SleepFor(absl::Microseconds(150 * (round % 8)));
      cv1::DeleteCustomerRequest request;
      request.set_customer_id(id);
      cv1::DeleteCustomerResponse response;
      deleted = customers_->DeleteCustomer(Ctx().get(), request, &response);
    });
    go.store(true);
    for (auto& t : threads) t.join();

    if (deleted.ok()) {
      ++deleted_rounds;
      EXPECT_EQ(GetCustomer(id).error_code(), grpc::StatusCode::NOT_FOUND);
      EXPECT_EQ(sales_ok.load(), 0);
      EXPECT_EQ(SalesOf(id), 0);
      EXPECT_FALSE(Sale(absl::StrCat("after-", round), id, 1000, 0).ok());
    } else {
      ++kept_rounds;
      EXPECT_EQ(deleted.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
          << deleted.error_message();
      EXPECT_EQ(Reason(deleted), "CUSTOMER_HAS_HISTORY");
      EXPECT_TRUE(GetCustomer(id).ok());
      EXPECT_GT(sales_ok.load(), 0);
      EXPECT_EQ(SalesOf(id), sales_ok.load());
      // Not left sealed: the customer still buys.
      EXPECT_TRUE(Sale(absl::StrCat("after-", round), id, 1000, 0).ok());
    }
  }
  std::cout << GetParam() << ": delete won " << deleted_rounds << " rounds, sales won "
            << kept_rounds << "\n";
}

TEST_P(CustomerProtocolsTest, MergesCompleteExactlyOnceThroughCrashes) {
  const std::string target = CreateCustomer("Budi Santoso", "0812-6000-0000");
  ASSERT_TRUE(Sale("t-sale", target, 1000000, 0).ok());
  std::vector<std::string> sources;
  for (int i = 0; i < 5; ++i) {
    sources.push_back(CreateCustomer(absl::StrCat("Budi ", i), absl::StrCat("0812-6000-", 1001 + i),
                                     "Bayar tiap Jumat"));
    ASSERT_TRUE(Sale(absl::StrCat("s", i, "-a"), sources[i], 200000, 0).ok());
    ASSERT_TRUE(Sale(absl::StrCat("s", i, "-b"), sources[i], 300000, 100000).ok());
  }
  std::vector<std::string> operations;

  // 1. ledger-svc down: the merge waits PENDING; customer-svc crashes; both come back.
  KillLedger();
  cv1::MergeOperation op = Merge(sources[0], target, "merge-0");
  EXPECT_EQ(op.state(), cv1::MERGE_OPERATION_STATE_PENDING);
  cv1::Customer merging;
  ASSERT_TRUE(GetCustomer(sources[0], &merging).ok());
  EXPECT_EQ(merging.state(), cv1::CUSTOMER_STATE_MERGING);
  ASSERT_TRUE(customer_->Kill().ok());
  StartLedger();
  ASSERT_TRUE(customer_->Restart().ok()) << customer_->LogTail();
  operations.push_back(op.merge_operation_id());

  // 2. The ledger moved the history, customer-svc crashed before it finalized.
  KillLedger();
  op = Merge(sources[1], target, "merge-1");
  ASSERT_EQ(op.state(), cv1::MERGE_OPERATION_STATE_PENDING);
  ASSERT_TRUE(customer_->Kill().ok());
  StartLedger();
  lv1::ReassignCustomerHistoryRequest moved;
  moved.set_merge_operation_id(op.merge_operation_id());
  moved.set_source_customer_id(sources[1]);
  moved.set_target_customer_id(target);
  lv1::ReassignCustomerHistoryResponse moved_response;
  grpc::Status reassigned =
      ledger_internal_->ReassignCustomerHistory(Ctx().get(), moved, &moved_response);
  ASSERT_TRUE(reassigned.ok()) << reassigned.error_message();
  EXPECT_EQ(moved_response.moved_sale_count(), 2);
  ASSERT_TRUE(customer_->Restart().ok()) << customer_->LogTail();
  operations.push_back(op.merge_operation_id());

  // 3. kill -9 of customer-svc at moments of the merge chosen at random; the client
  //    retries with the same request_id.
  std::mt19937 random(7);
  for (int i = 2; i < 5; ++i) {
    cv1::MergeOperation result;
    std::thread client([&] { result = Merge(sources[i], target, absl::StrCat("merge-", i)); });
    absl::SleepFor(absl::Microseconds(std::uniform_int_distribution<int>(0, 20000)(random)));
    ASSERT_TRUE(customer_->Kill().ok());
    ASSERT_TRUE(customer_->Restart().ok()) << customer_->LogTail();
    client.join();
    operations.push_back(result.merge_operation_id());
  }

  for (const std::string& id : operations) {
    SCOPED_TRACE(id);
    EXPECT_EQ(AwaitFinished(id).state(), cv1::MERGE_OPERATION_STATE_SUCCEEDED);
  }

  // The ledger moved every history exactly once.
  const lv1::CustomerLedgerStats stats = LedgerStats(target);
  EXPECT_EQ(stats.transaction_count(), 1 + 2 * 5);
  EXPECT_EQ(stats.total_spent().amount_minor(), 1000000 + 5 * 500000);
  EXPECT_EQ(stats.balance().amount_minor(), 1000000 + 5 * 400000);
  EXPECT_EQ(SalesOf(target), 11);
  cv1::Customer survivor;
  ASSERT_TRUE(GetCustomer(target, &survivor).ok());
  EXPECT_EQ(survivor.additional_phones_size(), 5);
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(sources[i]);
    EXPECT_EQ(LedgerStats(sources[i]).merged_into_customer_id(), target);
    EXPECT_EQ(SalesOf(sources[i]), 0);
    cv1::Customer pointer;
    ASSERT_TRUE(GetCustomer(sources[i], &pointer).ok());
    EXPECT_EQ(pointer.state(), cv1::CUSTOMER_STATE_MERGED);
    EXPECT_EQ(pointer.merged_into_customer_id(), target);
    // Finalized once: the source's data arrived once.
    const std::string marker = absl::StrCat("merged from Budi ", i, " (");
    size_t count = 0;
    for (size_t at = survivor.notes().find(marker); at != std::string::npos;
         at = survivor.notes().find(marker, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << survivor.notes();
    // No more sales for a merged id.
    grpc::Status late = Sale(absl::StrCat("late-", i), sources[i], 1000, 0);
    EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }

  // The stats projection follows the moves.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  cv1::Customer listed;
  while (absl::Now() < deadline) {
    cv1::ListCustomersRequest request;
    request.set_filter("has_balance = true");
    cv1::ListCustomersResponse response;
    ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &response).ok());
    if (response.customers_size() == 1 &&
        response.customers(0).stats().ledger_version() == stats.ledger_version()) {
      listed = response.customers(0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(listed.customer_id(), target);
  EXPECT_EQ(listed.stats().balance().amount_minor(), stats.balance().amount_minor());
  EXPECT_EQ(listed.stats().transaction_count(), stats.transaction_count());
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerProtocolsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
