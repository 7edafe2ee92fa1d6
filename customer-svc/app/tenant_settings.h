#pragma once

// A tenant's settings (phone region, currency, time zone, language, customer limit) as use
// cases: read with the count of customers under the plan limit, and changed field by field
// under an etag, announced as TenantSettingsChanged.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/tenant_service.pb.h"
#include "libs/auth/principal.h"

namespace kelola::customer::app {

struct SettingsChange {
  v1::TenantSettings patch;        // the fields of `paths` (etag: the version changed)
  std::vector<std::string> paths;  // empty or "*": every field
  auth::Principal caller;          // only a platform admin changes customer_limit (G4)
};

class TenantSettings {
 public:
  explicit TenantSettings(store::DirectoryStore& store) : store_(store) {}

  absl::Status Get(absl::string_view tenant, v1::TenantSettings& out) const;
  // Errors: ABORTED ETAG_MISMATCH, INVALID_ARGUMENT (the mask, the values), PERMISSION_DENIED
  // (customer_limit by another role), FAILED_PRECONDITION CURRENCY_LOCKED (the currency once
  // price lists hold prices).
  absl::Status Update(absl::string_view tenant, const store::WriteOptions& options,
                      const SettingsChange& change,
                      v1::UpdateTenantSettingsResponse& response) const;

 private:
  store::DirectoryStore& store_;
};

}  // namespace kelola::customer::app
