#pragma once

// The gateway's Redis key names. Ids are escaped so that no tenant or customer id can forge
// another's key (":", "{", "}" and "%" become %3A, %7B, %7D, %25), and every key of one
// customer shares one hash tag, so a script touching them stays in one Redis Cluster slot.

#include <string>

#include "absl/strings/string_view.h"

namespace kelola::gateway {

// "kelola:<kind>:{<tenant>:<customer>}"
std::string CustomerKey(absl::string_view kind, absl::string_view tenant,
                        absl::string_view customer);
// The same, appended to `out` (several keys in one buffer).
void AppendCustomerKey(std::string* out, absl::string_view kind, absl::string_view tenant,
                       absl::string_view customer);
// "kelola:<kind>:{<tenant>}"
std::string TenantKey(absl::string_view kind, absl::string_view tenant);

}  // namespace kelola::gateway
