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

  absl::Status status = store_.Read(caller->tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto found = tx.FindCustomer(*id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return NotFound("CUSTOMER_NOT_FOUND", "customer", "customer_id", *id);
    }
    const v1::Customer& customer = (*found)->customer;
    response->set_state(customer.state());
    response->set_allowed(customer.state() == v1::CUSTOMER_STATE_ACTIVE);
    response->set_merged_into_customer_id(customer.merged_into_customer_id());
    response->set_category_id(customer.category_id());
    response->set_customer_version((*found)->version);
    return absl::OkStatus();
  });
  return ToGrpc(status);
}

}  // namespace kelola::customer::api
