#pragma once

// Which roles may call which RPC (the "Roles" paragraphs of the contracts under
// protos/kelola). One table serves both places that enforce it: the gateway, before it
// forwards a call, and each backend, which re-checks in its handler.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/auth/principal.h"

namespace kelola::auth {

// The roles allowed to call `method` ("/package.Service/Method"); empty = every role.
const std::vector<Role>& AllowedRoles(absl::string_view method);

// OK when the principal holds a role allowed for `method`; else PERMISSION_DENIED (reason
// PERMISSION_DENIED, metadata required_role = the allowed roles joined by "|").
absl::Status Authorize(const Principal& principal, absl::string_view method);

// PERMISSION_DENIED (reason PERMISSION_DENIED, metadata required_role) unless the principal
// holds one of `roles`; for checks finer than a whole RPC (e.g. one field).
absl::Status RequireAnyRole(const Principal& principal, const std::vector<Role>& roles,
                            absl::string_view what);

// PERMISSION_DENIED (reason STORE_NOT_ALLOWED, metadata store_id) unless the principal
// may act for `store_id`.
absl::Status RequireStore(const Principal& principal, absl::string_view store_id);

}  // namespace kelola::auth
