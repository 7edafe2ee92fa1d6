#pragma once

// The tenant settings port (app/tenant_settings.h) answered by customer-svc's TenantService.

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "report-svc/app/tenant_settings.h"

namespace kelola::report {

using app::TenantSettings;
using app::TenantSettingsSource;

// customer-svc's TenantService, each answer used for `ttl`; when customer-svc cannot
// answer, an earlier answer is used however old; without one, UNAVAILABLE
// (STORE_UNAVAILABLE).
class GrpcTenantSettings final : public TenantSettingsSource {
 public:
  GrpcTenantSettings(std::shared_ptr<grpc::Channel> customer, const Clock& clock,
                     absl::Duration ttl = absl::Seconds(60));
  absl::StatusOr<TenantSettings> Get(const std::string& tenant_id, absl::Time deadline) override;

 private:
  struct Entry {
    TenantSettings settings;
    absl::Time fetched;
  };
  absl::StatusOr<TenantSettings> Fetch(const std::string& tenant_id, absl::Time deadline);

  std::unique_ptr<customer::v1::TenantService::Stub> stub_;
  const Clock& clock_;
  const absl::Duration ttl_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::report
