#include "customer-svc/api/grpc_ledger_protocol.h"

#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "libs/errors/errors.h"
#include "libs/server/call_credentials.h"

namespace kelola::customer::api {

GrpcLedgerProtocol::GrpcLedgerProtocol(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration timeout)
    : stub_(ledger::v1::LedgerInternalService::NewStub(channel)), timeout_(timeout) {}

std::unique_ptr<grpc::ClientContext> GrpcLedgerProtocol::Context(
    const app::LedgerTenant& tenant) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  server::AttachServiceCredential(*context, tenant.tenant_id);
  // ledger-svc's tenant currency and calendar (see ledger-svc/api/ledger_service.h).
  if (!tenant.currency_code.empty())
    context->AddMetadata("x-kelola-currency", tenant.currency_code);
  if (!tenant.time_zone.empty()) context->AddMetadata("x-kelola-time-zone", tenant.time_zone);
  return context;
}

absl::Status GrpcLedgerProtocol::Seal(const app::LedgerTenant& tenant, const std::string& seal_id,
                                      const std::string& customer_id) {
  ledger::v1::SealCustomerRequest request;
  request.set_seal_id(seal_id);
  request.set_customer_id(customer_id);
  ledger::v1::SealCustomerResponse response;
  return errors::FromGrpcStatus(stub_->SealCustomer(Context(tenant).get(), request, &response));
}

absl::StatusOr<bool> GrpcLedgerProtocol::Unseal(const app::LedgerTenant& tenant,
                                                const std::string& seal_id,
                                                const std::string& customer_id) {
  ledger::v1::UnsealCustomerRequest request;
  request.set_seal_id(seal_id);
  request.set_customer_id(customer_id);
  ledger::v1::UnsealCustomerResponse response;
  absl::Status status =
      errors::FromGrpcStatus(stub_->UnsealCustomer(Context(tenant).get(), request, &response));
  if (!status.ok()) return status;
  return response.was_sealed();
}

absl::Status GrpcLedgerProtocol::Reassign(const app::LedgerTenant& tenant,
                                          const std::string& operation_id,
                                          const std::string& source_customer_id,
                                          const std::string& target_customer_id) {
  ledger::v1::ReassignCustomerHistoryRequest request;
  request.set_merge_operation_id(operation_id);
  request.set_source_customer_id(source_customer_id);
  request.set_target_customer_id(target_customer_id);
  ledger::v1::ReassignCustomerHistoryResponse response;
  return errors::FromGrpcStatus(
      stub_->ReassignCustomerHistory(Context(tenant).get(), request, &response));
}

}  // namespace kelola::customer::api
