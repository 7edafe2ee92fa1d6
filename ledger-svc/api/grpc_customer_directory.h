#pragma once

// CustomerDirectory over kelola.customer.v1.CustomerInternalService/CheckCustomerForSale.

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "kelola/customer/v1/customer_internal_service.grpc.pb.h"
#include "ledger-svc/domain/customer_directory.h"

namespace kelola::ledger {

class GrpcCustomerDirectory final : public CustomerDirectory {
 public:
  GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel,
                        absl::Duration timeout = absl::Seconds(2));

  // UNIMPLEMENTED, UNAVAILABLE, DEADLINE_EXCEEDED and any unexpected answer become
  // UNAVAILABLE CUSTOMER_SERVICE_UNAVAILABLE: never "allowed".
  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view tenant_id,
                                             absl::string_view customer_id) override;

 private:
  std::unique_ptr<customer::v1::CustomerInternalService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace kelola::ledger
