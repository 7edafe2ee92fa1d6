#include "report-svc/api/tenant_settings.h"

#include <algorithm>

#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/server/call_credentials.h"
#include "libs/time/time.h"

namespace kelola::report {

GrpcTenantSettings::GrpcTenantSettings(std::shared_ptr<grpc::Channel> customer, const Clock& clock,
                                       absl::Duration ttl)
    : stub_(customer::v1::TenantService::NewStub(std::move(customer))), clock_(clock), ttl_(ttl) {}

absl::StatusOr<TenantSettings> GrpcTenantSettings::Fetch(const std::string& tenant_id,
                                                         absl::Time deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(2))));
  server::AttachServiceCredential(context, tenant_id);
  customer::v1::GetTenantSettingsResponse response;
  const grpc::Status status =
      stub_->GetTenantSettings(&context, customer::v1::GetTenantSettingsRequest(), &response);
  if (!status.ok()) {
    return errors::Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
                         "the tenant's settings are unavailable (customer-svc)");
  }
  TenantSettings settings;
  if (!response.settings().currency_code().empty()) {
    settings.currency = response.settings().currency_code();
  }
  const std::string zone_name =
      response.settings().time_zone().empty() ? "Asia/Jakarta" : response.settings().time_zone();
  absl::StatusOr<absl::TimeZone> zone = time::LoadTenantTimeZone(zone_name);
  if (!zone.ok()) return zone.status();
  settings.time_zone = *zone;
  settings.time_zone_name = zone_name;
  if (!response.settings().language_code().empty()) {
    settings.language_code = response.settings().language_code();
  }
  return settings;
}

absl::StatusOr<TenantSettings> GrpcTenantSettings::Get(const std::string& tenant_id,
                                                       absl::Time deadline) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(tenant_id);
    if (it != entries_.end() && now - it->second.fetched < ttl_) return it->second.settings;
  }
  absl::StatusOr<TenantSettings> fetched = Fetch(tenant_id, deadline);
  absl::MutexLock lock(&mu_);
  if (fetched.ok()) {
    entries_[tenant_id] = {*fetched, now};
    return fetched;
  }
  auto it = entries_.find(tenant_id);
  if (it != entries_.end()) {
    log::Warn("tenant settings not refreshed; using the last answer",
              {{"tenant", tenant_id}, {"error", std::string(fetched.status().message())}});
    return it->second.settings;
  }
  return fetched.status();
}

}  // namespace kelola::report
