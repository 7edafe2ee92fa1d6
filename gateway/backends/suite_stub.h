#pragma once

// The backend calls the gateway makes itself (the profile, the card cache's misses), as one
// interface with decorators, so that the use cases depend on no generated stub and tests
// answer with a fake. Forwarded calls do not come through here (gateway/proxy).
//
// Every call is asynchronous: it returns at once and runs `done` exactly once, on a gRPC
// thread, with the call's status; the response is filled when that status is OK. Parallel
// fetches therefore need no thread of their own. `context`, `request` and `response` must
// stay valid until `done` has run, also after context->TryCancel() (the call then ends with
// CANCELLED, soon). The caller prepares `context` (BackendCallPreparer): deadline,
// credential, tenant and trace headers.

#include <functional>
#include <memory>

#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/clock/clock.h"

namespace kelola::gateway {

// The backends' names, as errors and logs show them.
inline constexpr char kCustomerBackend[] = "customer-svc";
inline constexpr char kLedgerBackend[] = "ledger-svc";
inline constexpr char kReportBackend[] = "report-svc";

class SuiteStub {
 public:
  using Done = std::function<void(grpc::Status)>;
  virtual ~SuiteStub() = default;

  // customer-svc
  virtual void GetCustomer(grpc::ClientContext* context,
                           const customer::v1::GetCustomerRequest& request,
                           customer::v1::GetCustomerResponse* response, Done done) = 0;
  // ledger-svc
  virtual void ListSales(grpc::ClientContext* context, const ledger::v1::ListSalesRequest& request,
                         ledger::v1::ListSalesResponse* response, Done done) = 0;
  virtual void ListPayments(grpc::ClientContext* context,
                            const ledger::v1::ListPaymentsRequest& request,
                            ledger::v1::ListPaymentsResponse* response, Done done) = 0;
  virtual void GetCustomerLedgerStats(grpc::ClientContext* context,
                                      const ledger::v1::GetCustomerLedgerStatsRequest& request,
                                      ledger::v1::GetCustomerLedgerStatsResponse* response,
                                      Done done) = 0;
  // report-svc
  virtual void GetSummaryCard(grpc::ClientContext* context,
                              const report::v1::GetSummaryCardRequest& request,
                              report::v1::GetSummaryCardResponse* response, Done done) = 0;
  virtual void BatchGetSummaryCards(grpc::ClientContext* context,
                                    const report::v1::BatchGetSummaryCardsRequest& request,
                                    report::v1::BatchGetSummaryCardsResponse* response,
                                    Done done) = 0;
};

// The real calls, over one channel per backend, with the generated stubs' callback API.
class GrpcSuiteStub final : public SuiteStub {
 public:
  GrpcSuiteStub(const std::shared_ptr<grpc::ChannelInterface>& customer,
                const std::shared_ptr<grpc::ChannelInterface>& ledger,
                const std::shared_ptr<grpc::ChannelInterface>& report);

  void GetCustomer(grpc::ClientContext* context, const customer::v1::GetCustomerRequest& request,
                   customer::v1::GetCustomerResponse* response, Done done) override;
  void ListSales(grpc::ClientContext* context, const ledger::v1::ListSalesRequest& request,
                 ledger::v1::ListSalesResponse* response, Done done) override;
  void ListPayments(grpc::ClientContext* context, const ledger::v1::ListPaymentsRequest& request,
                    ledger::v1::ListPaymentsResponse* response, Done done) override;
  void GetCustomerLedgerStats(grpc::ClientContext* context,
                              const ledger::v1::GetCustomerLedgerStatsRequest& request,
                              ledger::v1::GetCustomerLedgerStatsResponse* response,
                              Done done) override;
  void GetSummaryCard(grpc::ClientContext* context,
                      const report::v1::GetSummaryCardRequest& request,
                      report::v1::GetSummaryCardResponse* response, Done done) override;
  void BatchGetSummaryCards(grpc::ClientContext* context,
                            const report::v1::BatchGetSummaryCardsRequest& request,
                            report::v1::BatchGetSummaryCardsResponse* response, Done done) override;

 private:
  std::unique_ptr<customer::v1::CustomerService::Stub> customer_;
  std::unique_ptr<ledger::v1::LedgerService::Stub> ledger_;
  std::unique_ptr<report::v1::ReportService::Stub> report_;
};

// Logs every failed call (warn: backend, method, code, message, latency) and passes
// everything through unchanged.
class LoggingSuiteStub final : public SuiteStub {
 public:
  explicit LoggingSuiteStub(std::shared_ptr<SuiteStub> child, const Clock& clock = RealClock::Get())
      : child_(std::move(child)), clock_(clock) {}

  void GetCustomer(grpc::ClientContext* context, const customer::v1::GetCustomerRequest& request,
                   customer::v1::GetCustomerResponse* response, Done done) override;
  void ListSales(grpc::ClientContext* context, const ledger::v1::ListSalesRequest& request,
                 ledger::v1::ListSalesResponse* response, Done done) override;
  void ListPayments(grpc::ClientContext* context, const ledger::v1::ListPaymentsRequest& request,
                    ledger::v1::ListPaymentsResponse* response, Done done) override;
  void GetCustomerLedgerStats(grpc::ClientContext* context,
                              const ledger::v1::GetCustomerLedgerStatsRequest& request,
                              ledger::v1::GetCustomerLedgerStatsResponse* response,
                              Done done) override;
  void GetSummaryCard(grpc::ClientContext* context,
                      const report::v1::GetSummaryCardRequest& request,
                      report::v1::GetSummaryCardResponse* response, Done done) override;
  void BatchGetSummaryCards(grpc::ClientContext* context,
                            const report::v1::BatchGetSummaryCardsRequest& request,
                            report::v1::BatchGetSummaryCardsResponse* response, Done done) override;

 private:
  // `done` preceded by the log line when the call fails.
  Done Logged(const char* backend, const char* method, Done done) const;

  std::shared_ptr<SuiteStub> child_;
  const Clock& clock_;
};

}  // namespace kelola::gateway
