#include "ledger-svc/api/ledger_internal_service.h"

#include "ledger-svc/api/request_support.h"
#include "libs/errors/errors.h"
#include "libs/idempotency/idempotency.h"
#include "libs/server/request_context.h"

namespace kelola::ledger {

using api::CheckId;
using api::CheckRequestId;
using api::Respond;
using api::ToGrpc;

namespace {

// SealCustomer and UnsealCustomer name the same two things.
template <typename Request>
absl::Status CheckSealRequest(const Request& request) {
  errors::FieldErrors fields;
  CheckRequestId(fields, request.seal_id(), "seal_id");
  CheckId(fields, "customer_id", request.customer_id(), true);
  return fields.ToStatus();
}

}  // namespace

absl::StatusOr<LedgerContext> LedgerInternalServiceImpl::Context(
    const grpc::ServerContext& context) {
  // Sealing and moving a customer's history are customer-svc's steps of erasure and merge;
  // nobody else may take them.
  auto rc = server::ReadRequestContext(context);
  if (!rc.ok()) return rc.status();
  if (auto s = server::RequireCaller(*rc, "customer-svc"); !s.ok()) return s;
  auto ctx = api::ReadLedgerContext(context);
  if (!ctx.ok()) return ctx.status();
  if (auto s = tenants_.Resolve(api::CallDeadline(context), *ctx); !s.ok()) return s;
  return ctx;
}

grpc::Status LedgerInternalServiceImpl::SealCustomer(grpc::ServerContext* context,
                                                     const v1::SealCustomerRequest* request,
                                                     v1::SealCustomerResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (auto s = CheckSealRequest(*request); !s.ok()) return ToGrpc(s);
  return Respond(protocols_.Seal(*ctx, {request->seal_id(), request->customer_id()},
                                 idempotency::Print(*request)),
                 response);
}

grpc::Status LedgerInternalServiceImpl::UnsealCustomer(grpc::ServerContext* context,
                                                       const v1::UnsealCustomerRequest* request,
                                                       v1::UnsealCustomerResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (auto s = CheckSealRequest(*request); !s.ok()) return ToGrpc(s);
  return Respond(protocols_.Unseal(*ctx, {request->seal_id(), request->customer_id()},
                                   idempotency::Print(*request)),
                 response);
}

grpc::Status LedgerInternalServiceImpl::ReassignCustomerHistory(
    grpc::ServerContext* context, const v1::ReassignCustomerHistoryRequest* request,
    v1::ReassignCustomerHistoryResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckRequestId(fields, request->merge_operation_id(), "merge_operation_id");
  CheckId(fields, "source_customer_id", request->source_customer_id(), true);
  CheckId(fields, "target_customer_id", request->target_customer_id(), true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  if (request->source_customer_id() == request->target_customer_id()) {
    return ToGrpc(errors::Error(absl::StatusCode::kInvalidArgument, "REASSIGN_SAME_CUSTOMER",
                                "source and target are the same customer",
                                {{"customer_id", request->source_customer_id()}},
                                {{"target_customer_id", "must differ from source_customer_id"}}));
  }
  const ReassignCommand cmd{request->merge_operation_id(), request->source_customer_id(),
                            request->target_customer_id()};
  return Respond(protocols_.Reassign(*ctx, cmd, idempotency::Print(*request)), response);
}

}  // namespace kelola::ledger
