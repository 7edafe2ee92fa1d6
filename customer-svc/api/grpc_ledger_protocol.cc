#include "customer-svc/api/grpc_ledger_protocol.h"

#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

GrpcLedgerProtocol::GrpcLedgerProtocol(std::shared_ptr<grpc::Channel> channel,
                                       absl::Duration timeout)
    : stub_(ledger::v1::LedgerInternalService::NewStub(channel)), timeout_(timeout) {}

std::unique_ptr<grpc::ClientContext> GrpcLedgerProtocol::Context(
    const std::string& tenant_id) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  context->AddMetadata(server::kTenantHeader, tenant_id);
  context->AddMetadata(server::kPrincipalHeader, "customer-svc");
  return context;
}

absl::Status GrpcLedgerProtocol::Seal(const std::string& tenant_id, const std::string& seal_id,
                                      const std::string& customer_id) {
  ledger::v1::SealCustomerRequest request;
  request.set_seal_id(seal_id);
  request.set_customer_id(customer_id);
  ledger::v1::SealCustomerResponse response;
  return errors::FromGrpcStatus(stub_->SealCustomer(Context(tenant_id).get(), request, &response));
}

absl::StatusOr<bool> GrpcLedgerProtocol::Unseal(const std::string& tenant_id,
                                                const std::string& seal_id,
                                                const std::string& customer_id) {
  ledger::v1::UnsealCustomerRequest request;
  request.set_seal_id(seal_id);
  request.set_customer_id(customer_id);
  ledger::v1::UnsealCustomerResponse response;
  absl::Status status =
      errors::FromGrpcStatus(stub_->UnsealCustomer(Context(tenant_id).get(), request, &response));
  if (!status.ok()) return status;
  return response.was_sealed();
}

absl::Status GrpcLedgerProtocol::Reassign(const std::string& tenant_id,
                                          const std::string& operation_id,
                                          const std::string& source_customer_id,
                                          const std::string& target_customer_id) {
  ledger::v1::ReassignCustomerHistoryRequest request;
  request.set_merge_operation_id(operation_id);
  request.set_source_customer_id(source_customer_id);
  request.set_target_customer_id(target_customer_id);
  ledger::v1::ReassignCustomerHistoryResponse response;
  return errors::FromGrpcStatus(
      stub_->ReassignCustomerHistory(Context(tenant_id).get(), request, &response));
}

}  // namespace kelola::customer::api
