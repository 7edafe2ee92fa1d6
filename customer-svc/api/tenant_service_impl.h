#pragma once

// gRPC handlers of kelola.customer.v1.TenantService: per-tenant settings (phone region,
// currency, time zone, language, customer limit), mapped to their use cases
// (app/tenant_settings.h).

#include "customer-svc/app/tenant_settings.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"

namespace kelola::customer::api {

class TenantServiceImpl : public v1::TenantService::Service {
 public:
  explicit TenantServiceImpl(store::DirectoryStore& store) : settings_(store) {}

  grpc::Status GetTenantSettings(grpc::ServerContext* context,
                                 const v1::GetTenantSettingsRequest* request,
                                 v1::GetTenantSettingsResponse* response) override;
  grpc::Status UpdateTenantSettings(grpc::ServerContext* context,
                                    const v1::UpdateTenantSettingsRequest* request,
                                    v1::UpdateTenantSettingsResponse* response) override;

 private:
  const app::TenantSettings settings_;
};

}  // namespace kelola::customer::api
