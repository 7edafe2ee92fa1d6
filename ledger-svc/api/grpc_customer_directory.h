#pragma once

// CustomerDirectory over customer-svc's gRPC API: CustomerInternalService/
// CheckCustomerForSale and TenantService/GetTenantSettings, on one channel made by
// NewCustomerChannel.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "kelola/customer/v1/customer_internal_service.grpc.pb.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "ledger-svc/domain/customer_directory.h"

namespace kelola::ledger {

class GrpcCustomerDirectory final : public CustomerDirectory {
 public:
  // Each call waits for the channel to be ready (wait_for_ready: a call made while the
  // channel reconnects waits instead of failing at once) until the caller's deadline, but
  // at most `max_wait`.
  explicit GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel,
                                 absl::Duration max_wait = absl::Seconds(2));

  // UNIMPLEMENTED, UNAVAILABLE, DEADLINE_EXCEEDED and any unexpected answer become
  // UNAVAILABLE CUSTOMER_SERVICE_UNAVAILABLE: never "allowed".
  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view tenant_id,
                                             absl::string_view customer_id,
                                             absl::Time deadline) override;
  // Empty fields of the answer are customer-svc's defaults (IDR, Asia/Jakarta).
  absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view tenant_id,
                                                   absl::Time deadline) override;

 private:
  // Tenant and principal metadata, wait_for_ready and the deadline of one call.
  void Prepare(grpc::ClientContext& context, absl::string_view tenant_id,
               absl::Time deadline) const;

  std::unique_ptr<customer::v1::CustomerInternalService::Stub> stub_;
  std::unique_ptr<customer::v1::TenantService::Stub> tenants_;
  absl::Duration max_wait_;
};

}  // namespace kelola::ledger
