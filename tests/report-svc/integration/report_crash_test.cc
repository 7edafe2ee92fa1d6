// report-svc killed with SIGKILL, twice, while a writer records sales and payments through
// ledger-svc, and restarted on the same database each time: once the writer stops, every
// card equals ledger-svc's statistics (the projection resumed from its stored cursor, lost
// nothing and applied nothing twice), and, if the receivables report answers, its total
// equals the sum of the ledger's balances. Real processes; SQLite and PostgreSQL.

#include <atomic>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/testing/suite.h"
#include "libs/time/time.h"
#include "tests/report-svc/integration/report_cluster.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;

constexpr char kTenant[] = "toko-crash";
constexpr int kCustomers = 10;
constexpr int kWrites = 150;

class ReportCrashTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto cluster = StartReportCluster(GetParam(), "kelola-report-crash");
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    c_ = *std::move(cluster);
  }

  std::string CreateCustomer(int n) {
    cv1::CreateCustomerRequest request;
    request.mutable_customer()->set_display_name(absl::StrCat("Pelanggan ", n));
    request.mutable_customer()->mutable_phone()->set_raw(absl::StrFormat("0813%08d", 52000000 + n));
    request.set_request_id(absl::StrCat("create-", n));
    cv1::CreateCustomerResponse response;
    grpc::Status status =
        c_->customers->CreateCustomer(TenantContext(kTenant).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.customer().customer_id();
  }

  // Write `i` of the writer: a credit sale with a due date, every third one followed by a
  // payment of part of it.
  void Write(const std::vector<std::string>& ids, int i) {
    const std::string& customer = ids[i % ids.size()];
    lv1::RecordSaleRequest sale;
    sale.set_request_id(absl::StrCat("sale-", i));
    sale.set_customer_id(customer);
    sale.set_store_id(i % 2 == 0 ? "toko-1" : "toko-2");
    auto* item = sale.add_items();
    item->set_name("Gula 1 kg");
    item->set_quantity_milli(1000 + 500 * (i % 3));
    *item->mutable_unit_price() = Idr(14000 + 100 * i);
    const int64_t total = (14000 + 100 * i) * (1000 + 500 * (i % 3)) / 1000;
    *sale.mutable_total() = Idr(total);
    *sale.mutable_sale_time() = time::ToTimestamp(absl::Now() - absl::Hours(24 * (i % 40)));
    lv1::RecordSaleResponse recorded;
    grpc::Status status =
        c_->ledger_stub->RecordSale(TenantContext(kTenant).get(), sale, &recorded);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (i % 3 != 0) return;
    lv1::RecordPaymentRequest payment;
    payment.set_request_id(absl::StrCat("payment-", i));
    payment.set_customer_id(customer);
    *payment.mutable_amount() = Idr(total / 2);
    payment.set_method(lv1::PAYMENT_METHOD_QRIS);
    lv1::RecordPaymentResponse paid;
    status = c_->ledger_stub->RecordPayment(TenantContext(kTenant).get(), payment, &paid);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  std::unique_ptr<ReportCluster> c_;
};

TEST_P(ReportCrashTest, CardsEqualTheLedgerAfterKill9sDuringWrites) {
  std::vector<std::string> ids;
  for (int n = 0; n < kCustomers; ++n) ids.push_back(CreateCustomer(n));
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      Write(ids, i);
      written.fetch_add(1);
    }
  });
  for (int kill = 1; kill <= 2; ++kill) {
    while (written.load() < kill * kWrites / 3) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_TRUE(c_->report->Kill().ok());
    absl::SleepFor(absl::Milliseconds(200));  // writes go on while report-svc is down
    ASSERT_TRUE(c_->report->Restart().ok()) << c_->report->LogTail();
  }
  writer.join();
  ASSERT_EQ(written.load(), kWrites);

  int64_t owed = 0;
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    auto stats = ReadLedgerStats(*c_->ledger_stub, kTenant, id);
    ASSERT_TRUE(stats.ok()) << stats.status();
    const lv1::CustomerLedgerStats& truth = *stats;
    owed += truth.balance().amount_minor();
    rv1::SummaryCard card;
    grpc::Status status =
        ReadCardAtVersion(*c_->reports, kTenant, id, truth.ledger_version(), &card);
    ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << c_->report->LogTail();
    ExpectCardEqualsLedger(card, truth);
  }

  // The receivables report, where it is built: its total is what the ledger says is owed
  // (asked again for a while: the report may trail the cards).
  rv1::GetReceivablesReportResponse response;
  grpc::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    status = c_->reports->GetReceivablesReport(TenantContext(kTenant).get(),
                                               rv1::GetReceivablesReportRequest(), &response);
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      std::cout << "GetReceivablesReport is not built yet; its totals were not checked\n";
      return;
    }
    if (status.ok() && response.totals().total_balance().amount_minor() == owed) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.totals().total_balance().amount_minor(), owed);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ReportCrashTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
