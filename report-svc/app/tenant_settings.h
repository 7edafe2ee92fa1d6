#pragma once

// Each tenant's currency, time zone and language (customer-svc TenantSettings): "today" of
// a card or report is the current day in the tenant's time zone, every date range is read in
// it, and amounts without ledger history are zero in the tenant's currency.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kelola::report::app {

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

}  // namespace kelola::report::app
