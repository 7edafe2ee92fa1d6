#include "customer-svc/api/tenant_service_impl.h"

#include <string>
#include <vector>

#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

grpc::Status TenantServiceImpl::GetTenantSettings(grpc::ServerContext* context,
                                                  const v1::GetTenantSettingsRequest* request,
                                                  v1::GetTenantSettingsResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  return ToGrpc(settings_.Get(rc->tenant_id, *response->mutable_settings()));
}

grpc::Status TenantServiceImpl::UpdateTenantSettings(grpc::ServerContext* context,
                                                     const v1::UpdateTenantSettingsRequest* request,
                                                     v1::UpdateTenantSettingsResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.TenantService/UpdateTenantSettings");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    return ToGrpc(InvalidField("request_id", s.message()));
  }
  app::SettingsChange change;
  change.patch = request->settings();
  change.paths.assign(request->update_mask().paths().begin(), request->update_mask().paths().end());
  change.caller = rc->identity;
  return ToGrpc(settings_.Update(rc->tenant_id, WriteKey(*rc, "UpdateTenantSettings", *request),
                                 change, *response));
}

}  // namespace kelola::customer::api
