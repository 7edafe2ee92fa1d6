#include "customer-svc/api/customer_internal_service_impl.h"

#include "customer-svc/api/handler_support.h"
#include "libs/ids/ids.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

grpc::Status CustomerInternalServiceImpl::CheckCustomerForSale(
    grpc::ServerContext* context, const v1::CheckCustomerForSaleRequest* request,
    v1::CheckCustomerForSaleResponse* response) {
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  // Only ledger-svc asks whether a sale may name a customer.
  if (auto s = server::RequireCaller(*caller, "ledger-svc"); !s.ok()) return ToGrpc(s);
  auto id = ids::NormalizeId(request->customer_id());
  if (!id.ok()) return ToGrpc(InvalidField("customer_id", "not a customer id (UUID)"));

  return ToGrpc(reads_.CheckForSale(caller->tenant_id, *id, *response));
}

}  // namespace kelola::customer::api
