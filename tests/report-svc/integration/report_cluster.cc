#include "tests/report-svc/integration/report_cluster.h"

#include "gtest/gtest.h"
#include "libs/testing/suite.h"

namespace kelola::testing {

absl::StatusOr<std::unique_ptr<ReportCluster>> StartReportCluster(const std::string& driver,
                                                                  const std::string& dir_prefix) {
  auto cluster = std::make_unique<ReportCluster>();
  ClusterOptions options;
  options.driver = driver;
  options.dir_prefix = dir_prefix;
  options.gateways = 0;
  options.trust_tenant_header = true;
  auto processes = Cluster::Start(options);
  if (!processes.ok()) return processes.status();
  cluster->processes = *std::move(processes);
  cluster->customer = cluster->processes->customer.get();
  cluster->ledger = cluster->processes->ledger.get();
  cluster->report = cluster->processes->report.get();
  auto channel = [](const std::string& address) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  };
  const std::string customer_address = cluster->customer->address();
  cluster->customers = customer::v1::CustomerService::NewStub(channel(customer_address));
  cluster->categories = customer::v1::CategoryService::NewStub(channel(customer_address));
  cluster->tenants = customer::v1::TenantService::NewStub(channel(customer_address));
  cluster->ledger_stub = ledger::v1::LedgerService::NewStub(channel(cluster->ledger->address()));
  cluster->reports = report::v1::ReportService::NewStub(channel(cluster->report->address()));
  return cluster;
}

grpc::Status ReadCardAtVersion(report::v1::ReportService::Stub& reports, const std::string& tenant,
                               const std::string& customer_id, int64_t ledger_version,
                               report::v1::SummaryCard* card) {
  report::v1::GetSummaryCardRequest request;
  request.set_customer_id(customer_id);
  request.set_min_ledger_version(ledger_version);
  report::v1::GetSummaryCardResponse response;
  grpc::Status status;
  for (int attempt = 0; attempt < 6; ++attempt) {
    status = reports.GetSummaryCard(TenantContext(tenant).get(), request, &response);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  *card = response.card();
  return status;
}

absl::StatusOr<ledger::v1::CustomerLedgerStats> ReadLedgerStats(
    ledger::v1::LedgerService::Stub& ledger, const std::string& tenant,
    const std::string& customer_id) {
  ledger::v1::GetCustomerLedgerStatsRequest request;
  request.set_customer_id(customer_id);
  ledger::v1::GetCustomerLedgerStatsResponse response;
  grpc::Status status =
      ledger.GetCustomerLedgerStats(TenantContext(tenant).get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        "GetCustomerLedgerStats: " + status.error_message());
  }
  return response.stats();
}

void ExpectCardEqualsLedger(const report::v1::SummaryCard& card,
                            const ledger::v1::CustomerLedgerStats& truth) {
  EXPECT_EQ(card.customer_id(), truth.customer_id());
  EXPECT_EQ(card.ledger_version(), truth.ledger_version());
  EXPECT_EQ(card.total_spent().amount_minor(), truth.total_spent().amount_minor());
  EXPECT_EQ(card.total_spent().currency_code(), truth.total_spent().currency_code());
  EXPECT_EQ(card.transaction_count(), truth.transaction_count());
  EXPECT_EQ(card.average_order().amount_minor(), truth.average_order().amount_minor());
  EXPECT_EQ(card.balance().amount_minor(), truth.balance().amount_minor());
  EXPECT_EQ(card.credit().amount_minor(), truth.credit().amount_minor());
  EXPECT_EQ(card.first_purchase_time().seconds(), truth.first_purchase_time().seconds());
  EXPECT_EQ(card.first_purchase_time().nanos(), truth.first_purchase_time().nanos());
  EXPECT_EQ(card.last_purchase_time().seconds(), truth.last_purchase_time().seconds());
  EXPECT_EQ(card.last_purchase_time().nanos(), truth.last_purchase_time().nanos());
  EXPECT_EQ(card.overdue_amount().amount_minor(), truth.overdue_amount().amount_minor());
  EXPECT_EQ(card.days_overdue(), truth.days_overdue());
  EXPECT_EQ(card.merged_into_customer_id(), truth.merged_into_customer_id());
  EXPECT_EQ(card.has_days_since_last_purchase(), truth.has_last_purchase_time());
}

}  // namespace kelola::testing
