#pragma once

// Each tenant's currency and time zone (customer-svc TenantSettings): "today" of a card is
// the current day in the tenant's time zone, and a card without ledger history shows zero
// amounts in the tenant's currency.

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

namespace kelola::report {

struct TenantSettings {
  std::string currency = "IDR";
  absl::TimeZone time_zone;
  std::string time_zone_name = "Asia/Jakarta";  // IANA name, as reports state it
  std::string language_code = "id";             // "id", "th" or "en" (exports, formatting)
};

class TenantSettingsSource {
 public:
  virtual ~TenantSettingsSource() = default;
  // The settings of `tenant_id`, asking for at most until `deadline`.
  virtual absl::StatusOr<TenantSettings> Get(const std::string& tenant_id, absl::Time deadline) = 0;
};

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
