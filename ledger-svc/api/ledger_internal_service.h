#pragma once

// kelola.ledger.v1.LedgerInternalService: the ledger's side of customer-svc's delete (C4)
// and merge (C7) protocols. Validates the operation ids and runs the steps
// (app/customer_protocols.h), each in one idempotent transaction.
//
// Caller authentication (only customer-svc may call) belongs to the internal-credential
// work of the gateway (G4); until then the service is reachable only inside the cluster
// network, like every other internal port. See docs/decisions/customer-delete-and-merge.md.

#include "kelola/ledger/v1/ledger_internal_service.grpc.pb.h"
#include "ledger-svc/api/tenant_settings_cache.h"
#include "ledger-svc/app/customer_protocols.h"

namespace kelola::ledger {

class LedgerInternalServiceImpl final : public v1::LedgerInternalService::Service {
 public:
  LedgerInternalServiceImpl(CustomerProtocols& protocols, TenantSettingsCache& tenants)
      : protocols_(protocols), tenants_(tenants) {}

  grpc::Status SealCustomer(grpc::ServerContext* context, const v1::SealCustomerRequest* request,
                            v1::SealCustomerResponse* response) override;
  grpc::Status UnsealCustomer(grpc::ServerContext* context,
                              const v1::UnsealCustomerRequest* request,
                              v1::UnsealCustomerResponse* response) override;
  grpc::Status ReassignCustomerHistory(grpc::ServerContext* context,
                                       const v1::ReassignCustomerHistoryRequest* request,
                                       v1::ReassignCustomerHistoryResponse* response) override;

 private:
  // Tenant and principal of the call with the tenant's currency and time zone.
  absl::StatusOr<LedgerContext> Context(const grpc::ServerContext& context);

  CustomerProtocols& protocols_;
  TenantSettingsCache& tenants_;
};

}  // namespace kelola::ledger
