#pragma once

// Who is calling: the principal the gateway authenticated (a user with a JWT, an
// integration with an API key) or a service of the suite. It travels from the gateway to
// the backends in the signed internal credential (libs/auth/internal_credential.h).

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kelola::auth {

// A role of a shop's staff (kelola.gateway.v1.Role).
enum class Role { kOwner, kManager, kCashier, kPlatformAdmin };

enum class PrincipalKind { kUser, kApiKey, kService };

struct Principal {
  std::string id;  // JWT subject, API key name, or service name; never a secret
  PrincipalKind kind = PrincipalKind::kUser;
  std::string display_name;         // may be empty
  std::string tenant_id;            // every call of the principal belongs to it ("" for services)
  std::vector<Role> roles;          // at least one for users and API keys
  std::vector<std::string> stores;  // empty = every store of the tenant
  std::optional<absl::Time> expire_time;  // JWT exp; none for API keys

  bool HasRole(Role role) const;
  bool HasAnyRole(std::initializer_list<Role> roles) const;
  // True when the principal may act for `store_id` (no store limit, or listed).
  bool MayUseStore(absl::string_view store_id) const;
};

// "owner", "manager", "cashier", "platform_admin" (as in API key files and JWT claims).
absl::string_view RoleName(Role role);
// The role of a name above; nullopt for anything else.
std::optional<Role> ParseRole(absl::string_view name);

}  // namespace kelola::auth
