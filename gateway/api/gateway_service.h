#pragma once

// kelola.gateway.v1.GatewayService: WhoAmI and GetCustomerProfile (G2). Synchronous
// handlers: the profile waits for its parts, each fetched asynchronously.

#include "gateway/api/customer_profile.h"
#include "gateway/auth/gatekeeper.h"
#include "kelola/gateway/v1/gateway_service.grpc.pb.h"

namespace kelola::gateway {

class GatewayServiceImpl final : public v1::GatewayService::Service {
 public:
  GatewayServiceImpl(Gatekeeper& gatekeeper, CustomerProfiles& profiles)
      : gatekeeper_(gatekeeper), profiles_(profiles) {}

  grpc::Status WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;
  grpc::Status GetCustomerProfile(grpc::ServerContext* context,
                                  const v1::GetCustomerProfileRequest* request,
                                  v1::GetCustomerProfileResponse* response) override;

 private:
  Gatekeeper& gatekeeper_;
  CustomerProfiles& profiles_;
};

// The principal as the contract shows it.
v1::Principal ToProto(const auth::Principal& principal);

}  // namespace kelola::gateway
