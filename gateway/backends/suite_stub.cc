#include "gateway/backends/suite_stub.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"

namespace kelola::gateway {

GrpcSuiteStub::GrpcSuiteStub(const std::shared_ptr<grpc::ChannelInterface>& customer,
                             const std::shared_ptr<grpc::ChannelInterface>& ledger,
                             const std::shared_ptr<grpc::ChannelInterface>& report)
    : customer_(customer::v1::CustomerService::NewStub(customer)),
      ledger_(ledger::v1::LedgerService::NewStub(ledger)),
      report_(report::v1::ReportService::NewStub(report)) {}

void GrpcSuiteStub::GetCustomer(grpc::ClientContext* context,
                                const customer::v1::GetCustomerRequest& request,
                                customer::v1::GetCustomerResponse* response, Done done) {
  customer_->async()->GetCustomer(context, &request, response, std::move(done));
}

void GrpcSuiteStub::ListSales(grpc::ClientContext* context,
                              const ledger::v1::ListSalesRequest& request,
                              ledger::v1::ListSalesResponse* response, Done done) {
  ledger_->async()->ListSales(context, &request, response, std::move(done));
}

void GrpcSuiteStub::ListPayments(grpc::ClientContext* context,
                                 const ledger::v1::ListPaymentsRequest& request,
                                 ledger::v1::ListPaymentsResponse* response, Done done) {
  ledger_->async()->ListPayments(context, &request, response, std::move(done));
}

void GrpcSuiteStub::GetCustomerLedgerStats(grpc::ClientContext* context,
                                           const ledger::v1::GetCustomerLedgerStatsRequest& request,
                                           ledger::v1::GetCustomerLedgerStatsResponse* response,
                                           Done done) {
  ledger_->async()->GetCustomerLedgerStats(context, &request, response, std::move(done));
}

void GrpcSuiteStub::GetSummaryCard(grpc::ClientContext* context,
                                   const report::v1::GetSummaryCardRequest& request,
                                   report::v1::GetSummaryCardResponse* response, Done done) {
  report_->async()->GetSummaryCard(context, &request, response, std::move(done));
}

void GrpcSuiteStub::BatchGetSummaryCards(grpc::ClientContext* context,
                                         const report::v1::BatchGetSummaryCardsRequest& request,
                                         report::v1::BatchGetSummaryCardsResponse* response,
                                         Done done) {
  report_->async()->BatchGetSummaryCards(context, &request, response, std::move(done));
}

SuiteStub::Done LoggingSuiteStub::Logged(const char* backend, const char* method, Done done) const {
  const absl::Time start = clock_.Now();
  return [backend, method, start, &clock = clock_, done = std::move(done)](grpc::Status status) {
    if (!status.ok()) {
      log::Warn("backend call failed",
                {{"backend", backend},
                 {"method", method},
                 {"code", absl::StrCat(static_cast<int>(status.error_code()))},
                 {"error", status.error_message()},
                 {"latency_ms", absl::StrCat(absl::ToInt64Milliseconds(clock.Now() - start))}});
    }
    done(std::move(status));
  };
}

void LoggingSuiteStub::GetCustomer(grpc::ClientContext* context,
                                   const customer::v1::GetCustomerRequest& request,
                                   customer::v1::GetCustomerResponse* response, Done done) {
  child_->GetCustomer(context, request, response,
                      Logged(kCustomerBackend, "GetCustomer", std::move(done)));
}

void LoggingSuiteStub::ListSales(grpc::ClientContext* context,
                                 const ledger::v1::ListSalesRequest& request,
                                 ledger::v1::ListSalesResponse* response, Done done) {
  child_->ListSales(context, request, response,
                    Logged(kLedgerBackend, "ListSales", std::move(done)));
}

void LoggingSuiteStub::ListPayments(grpc::ClientContext* context,
                                    const ledger::v1::ListPaymentsRequest& request,
                                    ledger::v1::ListPaymentsResponse* response, Done done) {
  child_->ListPayments(context, request, response,
                       Logged(kLedgerBackend, "ListPayments", std::move(done)));
}

void LoggingSuiteStub::GetCustomerLedgerStats(
    grpc::ClientContext* context, const ledger::v1::GetCustomerLedgerStatsRequest& request,
    ledger::v1::GetCustomerLedgerStatsResponse* response, Done done) {
  child_->GetCustomerLedgerStats(context, request, response,
                                 Logged(kLedgerBackend, "GetCustomerLedgerStats", std::move(done)));
}

void LoggingSuiteStub::GetSummaryCard(grpc::ClientContext* context,
                                      const report::v1::GetSummaryCardRequest& request,
                                      report::v1::GetSummaryCardResponse* response, Done done) {
  child_->GetSummaryCard(context, request, response,
                         Logged(kReportBackend, "GetSummaryCard", std::move(done)));
}

void LoggingSuiteStub::BatchGetSummaryCards(grpc::ClientContext* context,
                                            const report::v1::BatchGetSummaryCardsRequest& request,
                                            report::v1::BatchGetSummaryCardsResponse* response,
                                            Done done) {
  child_->BatchGetSummaryCards(context, request, response,
                               Logged(kReportBackend, "BatchGetSummaryCards", std::move(done)));
}

}  // namespace kelola::gateway
