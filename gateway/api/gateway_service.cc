#include "gateway/api/gateway_service.h"

#include "gateway/proxy/proxy_call.h"
#include "google/protobuf/util/time_util.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {
namespace {

v1::Role ToProto(auth::Role role) {
  switch (role) {
    case auth::Role::kOwner:
      return v1::ROLE_OWNER;
    case auth::Role::kManager:
      return v1::ROLE_MANAGER;
    case auth::Role::kCashier:
      return v1::ROLE_CASHIER;
    case auth::Role::kPlatformAdmin:
      return v1::ROLE_PLATFORM_ADMIN;
  }
  return v1::ROLE_UNSPECIFIED;
}

}  // namespace

v1::Principal ToProto(const auth::Principal& principal) {
  v1::Principal out;
  out.set_principal_id(principal.id);
  out.set_kind(principal.kind == auth::PrincipalKind::kApiKey ? v1::PRINCIPAL_KIND_API_KEY
                                                              : v1::PRINCIPAL_KIND_USER);
  out.set_display_name(principal.display_name);
  out.set_tenant_id(principal.tenant_id);
  for (auth::Role role : principal.roles) out.add_roles(ToProto(role));
  for (const std::string& store : principal.stores) out.add_store_ids(store);
  if (principal.expire_time) {
    *out.mutable_expire_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(*principal.expire_time));
  }
  return out;
}

grpc::Status GatewayServiceImpl::WhoAmI(grpc::ServerContext* context,
                                        const v1::WhoAmIRequest* /*request*/,
                                        v1::WhoAmIResponse* response) {
  auto principal = gatekeeper_.Admit(*context, "/kelola.gateway.v1.GatewayService/WhoAmI");
  if (!principal.ok()) return errors::ToGrpcStatus(principal.status(), kGatewayDomain);
  *response->mutable_principal() = ToProto(**principal);
  return grpc::Status::OK;
}

grpc::Status GatewayServiceImpl::GetCustomerProfile(grpc::ServerContext* context,
                                                    const v1::GetCustomerProfileRequest* request,
                                                    v1::GetCustomerProfileResponse* response) {
  auto principal =
      gatekeeper_.Admit(*context, "/kelola.gateway.v1.GatewayService/GetCustomerProfile");
  if (!principal.ok()) return errors::ToGrpcStatus(principal.status(), kGatewayDomain);
  auto profile = profiles_.Get(*context, **principal, *request);
  if (!profile.ok()) return errors::ToGrpcStatus(profile.status(), kGatewayDomain);
  *response = *std::move(profile);
  return grpc::Status::OK;
}

}  // namespace kelola::gateway
