// Summary cards end to end, with real processes: customer-svc, ledger-svc and report-svc.
// Sales, payments (one kept partly as credit) and a void are recorded through ledger-svc;
// report-svc's card of every customer then equals ledger-svc's own statistics, also after
// a kill -9 of report-svc in the middle of a burst of writes. SQLite and PostgreSQL.

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/service_process.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"
#include "tests/report-svc/integration/report_cluster.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;

class SummaryCardProcessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("kelola-cards-e2e");
    ASSERT_TRUE(dir.ok());
    dir_ = *std::move(dir);
    auto customer_db = DatabaseUrl(GetParam(), *dir_, "customers");
    auto ledger_db = DatabaseUrl(GetParam(), *dir_, "ledger");
    auto report_db = DatabaseUrl(GetParam(), *dir_, "report");
    ASSERT_TRUE(customer_db.ok() && ledger_db.ok() && report_db.ok());
    auto services = StartCustomerAndLedger(dir_->path(), *customer_db, *ledger_db);
    ASSERT_TRUE(services.ok()) << services.status();
    customer_ = std::move(services->customer);
    ledger_ = std::move(services->ledger);
    ledger_address_ = ledger_->address();
    const std::string& ledger_address = ledger_address_;
    auto report = ServiceProcess::Start(
        {"report-svc",
         {"--db=" + *report_db, "--ledger=" + ledger_address, "--customer=" + customer_->address()},
         dir_->path()});
    ASSERT_TRUE(report.ok()) << report.status();
    report_ = *std::move(report);
    customers_ = cv1::CustomerService::NewStub(
        grpc::CreateChannel(customer_->address(), grpc::InsecureChannelCredentials()));
    ledger_stub_ = lv1::LedgerService::NewStub(
        grpc::CreateChannel(ledger_address, grpc::InsecureChannelCredentials()));
    reports_ = rv1::ReportService::NewStub(
        grpc::CreateChannel(report_->address(), grpc::InsecureChannelCredentials()));
  }

  std::string CreateCustomer(const std::string& name, int n) {
    cv1::CreateCustomerRequest request;
    request.mutable_customer()->set_display_name(name);
    request.mutable_customer()->mutable_phone()->set_raw(absl::StrCat("0812-7100-", 1000 + n));
    cv1::CreateCustomerResponse response;
    grpc::Status status =
        customers_->CreateCustomer(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.customer().customer_id();
  }

  // A credit sale of `total` with `paid` paid now; returns the sale id.
  std::string Sale(const std::string& request_id, const std::string& customer, int64_t total,
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
    lv1::RecordSaleResponse response;
    grpc::Status status =
        ledger_stub_->RecordSale(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.sale().sale_id();
  }

  void Payment(const std::string& request_id, const std::string& customer, int64_t amount,
               bool keep_excess) {
    lv1::RecordPaymentRequest request;
    request.set_request_id(request_id);
    request.set_customer_id(customer);
    request.set_store_id("toko-1");
    *request.mutable_amount() = Idr(amount);
    request.set_method(lv1::PAYMENT_METHOD_CASH);
    request.set_keep_excess_as_credit(keep_excess);
    lv1::RecordPaymentResponse response;
    grpc::Status status =
        ledger_stub_->RecordPayment(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  void Void(const std::string& request_id, const std::string& sale_id) {
    lv1::VoidSaleRequest request;
    request.set_request_id(request_id);
    request.set_sale_id(sale_id);
    request.set_reason("entered twice");
    lv1::VoidSaleResponse response;
    grpc::Status status =
        ledger_stub_->VoidSale(TenantContext("toko-ani").get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // The cards of `ids`, each read with min_ledger_version = the ledger's version (the
  // read waits for the projection), compared field by field with the ledger's stats.
  void ExpectCardsEqualLedger(const std::vector<std::string>& ids) {
    for (const std::string& id : ids) {
      SCOPED_TRACE(id);
      auto truth = ReadLedgerStats(*ledger_stub_, "toko-ani", id);
      ASSERT_TRUE(truth.ok()) << truth.status();
      rv1::SummaryCard card;
      grpc::Status status =
          ReadCardAtVersion(*reports_, "toko-ani", id, truth->ledger_version(), &card);
      ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << report_->LogTail();
      ExpectCardEqualsLedger(card, *truth);
    }
  }

  std::unique_ptr<TempDir> dir_;
  std::string ledger_address_;
  std::unique_ptr<ServiceProcess> customer_;
  std::unique_ptr<ServiceProcess> ledger_;
  std::unique_ptr<ServiceProcess> report_;
  std::unique_ptr<cv1::CustomerService::Stub> customers_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_stub_;
  std::unique_ptr<rv1::ReportService::Stub> reports_;
};

TEST_P(SummaryCardProcessTest, CardsEqualTheLedgersStatistics) {
  const std::string budi = CreateCustomer("Budi Santoso", 1);
  const std::string siti = CreateCustomer("Siti Nurhaliza", 2);
  const std::string agus = CreateCustomer("Agus Salim", 3);
  Sale("s1", budi, 15000000, 5000000);
  Sale("s2", budi, 2000001, 0);
  const std::string doubled = Sale("s3", budi, 700000, 0);
  Void("v1", doubled);
  Payment("p1", budi, 3000000, false);
  Sale("s4", siti, 30000000, 0);
  Payment("p2", siti, 31000000, true);  // 1.000.000,00 kept as credit
  ExpectCardsEqualLedger({budi, siti, agus});

  // Rebuild: a fresh report-svc on an empty database catches up from sequence 0 and ends
  // equal to the live one.
  const std::string rebuilt_db = DatabaseUrl(GetParam(), *dir_, "rebuilt").value();
  std::filesystem::create_directories(dir_->Join("rebuilt"));
  auto rebuilt = ServiceProcess::Start(
      {"report-svc",
       {"--db=" + rebuilt_db, "--ledger=" + ledger_address_, "--customer=" + customer_->address()},
       dir_->Join("rebuilt")});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  report_->Stop().IgnoreError();
  report_ = *std::move(rebuilt);
  reports_ = rv1::ReportService::NewStub(
      grpc::CreateChannel(report_->address(), grpc::InsecureChannelCredentials()));
  ExpectCardsEqualLedger({budi, siti, agus});
}

TEST_P(SummaryCardProcessTest, CardsEqualTheLedgerAfterABurstAndAKill9) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(CreateCustomer(absl::StrCat("Pelanggan ", i), 10 + i));
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 3; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 25; ++i) {
        const std::string& customer = ids[(c * 5 + i) % ids.size()];
        Sale(absl::StrCat("burst-", c, "-", i), customer, 1000000 + 1000 * i, (i % 3) * 100000);
        if (i % 4 == 0) Payment(absl::StrCat("pay-", c, "-", i), customer, 50000, false);
        done.fetch_add(1);
      }
    });
  }
  while (done.load() < 30) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(report_->Kill().ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(report_->Restart().ok()) << report_->LogTail();
  for (auto& t : clients) t.join();
  ExpectCardsEqualLedger(ids);
}

INSTANTIATE_TEST_SUITE_P(Drivers, SummaryCardProcessTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
