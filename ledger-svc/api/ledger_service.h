#pragma once

// kelola.ledger.v1.LedgerService: parses and validates requests, maps them to the app
// layer's commands (writes, ledger_commands.h), the store's list queries (lists,
// ledger_queries.h) or store calls (other reads), asks customer-svc (CustomerDirectory)
// about a customer the ledger's projection of its directory does not hold yet, and
// converts the status
// once, with errors::ToGrpcStatus(status, "ledger.kelola.id").
//
// Tenant currency and time zone come from customer-svc's TenantSettings through
// TenantSettingsCache, never from the caller. Calls to customer-svc wait at most until
// the deadline of the call being served.

#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "ledger-svc/api/ledger_validation.h"
#include "ledger-svc/api/request_support.h"
#include "ledger-svc/api/tenant_settings_cache.h"
#include "ledger-svc/app/ledger_app.h"
#include "ledger-svc/domain/customer_directory.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/clock/clock.h"

namespace kelola::ledger {

struct LedgerServiceOptions {
  // How far in the future of the server clock a client time may be.
  absl::Duration future_tolerance = absl::Minutes(5);
};

class LedgerServiceImpl final : public v1::LedgerService::Service {
 public:
  // Writes run through `app`'s use cases; reads and replays ask `store`.
  LedgerServiceImpl(LedgerStore& store, LedgerApp& app, CustomerDirectory& directory,
                    TenantSettingsCache& tenants, const Clock& clock,
                    LedgerServiceOptions options = {})
      : store_(store),
        app_(app),
        directory_(directory),
        tenants_(tenants),
        clock_(clock),
        options_(options) {}

  grpc::Status RecordSale(grpc::ServerContext* context, const v1::RecordSaleRequest* request,
                          v1::RecordSaleResponse* response) override;
  grpc::Status GetSale(grpc::ServerContext* context, const v1::GetSaleRequest* request,
                       v1::GetSaleResponse* response) override;
  grpc::Status ListSales(grpc::ServerContext* context, const v1::ListSalesRequest* request,
                         v1::ListSalesResponse* response) override;
  grpc::Status VoidSale(grpc::ServerContext* context, const v1::VoidSaleRequest* request,
                        v1::VoidSaleResponse* response) override;
  grpc::Status RefundSale(grpc::ServerContext* context, const v1::RefundSaleRequest* request,
                          v1::RefundSaleResponse* response) override;
  grpc::Status RecordPayment(grpc::ServerContext* context, const v1::RecordPaymentRequest* request,
                             v1::RecordPaymentResponse* response) override;
  grpc::Status GetPayment(grpc::ServerContext* context, const v1::GetPaymentRequest* request,
                          v1::GetPaymentResponse* response) override;
  grpc::Status ListPayments(grpc::ServerContext* context, const v1::ListPaymentsRequest* request,
                            v1::ListPaymentsResponse* response) override;
  grpc::Status VoidPayment(grpc::ServerContext* context, const v1::VoidPaymentRequest* request,
                           v1::VoidPaymentResponse* response) override;
  grpc::Status ApplyCredit(grpc::ServerContext* context, const v1::ApplyCreditRequest* request,
                           v1::ApplyCreditResponse* response) override;
  grpc::Status GetBalance(grpc::ServerContext* context, const v1::GetBalanceRequest* request,
                          v1::GetBalanceResponse* response) override;
  grpc::Status BatchGetBalances(grpc::ServerContext* context,
                                const v1::BatchGetBalancesRequest* request,
                                v1::BatchGetBalancesResponse* response) override;
  grpc::Status ListReceivables(grpc::ServerContext* context,
                               const v1::ListReceivablesRequest* request,
                               v1::ListReceivablesResponse* response) override;
  grpc::Status GetCustomerLedgerStats(grpc::ServerContext* context,
                                      const v1::GetCustomerLedgerStatsRequest* request,
                                      v1::GetCustomerLedgerStatsResponse* response) override;
  grpc::Status SetCreditLimit(grpc::ServerContext* context,
                              const v1::SetCreditLimitRequest* request,
                              v1::SetCreditLimitResponse* response) override;
  grpc::Status DeleteCreditLimit(grpc::ServerContext* context,
                                 const v1::DeleteCreditLimitRequest* request,
                                 v1::DeleteCreditLimitResponse* response) override;
  grpc::Status GetCreditLimit(grpc::ServerContext* context,
                              const v1::GetCreditLimitRequest* request,
                              v1::GetCreditLimitResponse* response) override;
  grpc::Status ListCreditLimits(grpc::ServerContext* context,
                                const v1::ListCreditLimitsRequest* request,
                                v1::ListCreditLimitsResponse* response) override;

 private:
  // Tenant and principal of the call with the tenant's currency and time zone.
  absl::StatusOr<LedgerContext> Context(const grpc::ServerContext& context);
  // When client times may be, by the server clock.
  api::TimeRules Times() const { return {clock_.Now(), options_.future_tolerance}; }
  // The question RecordSale and RecordPayment ask customer-svc about a customer the
  // projection does not hold yet (CheckForSale); sets `asked` when asked. With
  // `archived_may_write`, customer-svc's CUSTOMER_ARCHIVED refusal is an answer.
  DirectoryQuestion AskDirectory(const grpc::ServerContext& context, const LedgerContext& ctx,
                                 const std::string& customer_id, bool archived_may_write,
                                 bool& asked);
  // The checks of a write before it runs (tenant settings into `ctx`, fields).
  absl::Status CheckSale(const grpc::ServerContext& context, LedgerContext& ctx,
                         const v1::RecordSaleRequest& req);
  absl::Status CheckPayment(const grpc::ServerContext& context, LedgerContext& ctx,
                            const v1::RecordPaymentRequest& req);

  LedgerStore& store_;
  LedgerApp& app_;
  CustomerDirectory& directory_;
  TenantSettingsCache& tenants_;
  const Clock& clock_;
  LedgerServiceOptions options_;
};

}  // namespace kelola::ledger
