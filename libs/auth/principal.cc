#include "libs/auth/principal.h"

#include <algorithm>

namespace kelola::auth {

bool Principal::HasRole(Role role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::HasAnyRole(std::initializer_list<Role> wanted) const {
  return std::any_of(wanted.begin(), wanted.end(), [&](Role r) { return HasRole(r); });
}

bool Principal::MayUseStore(absl::string_view store_id) const {
  return stores.empty() || std::find(stores.begin(), stores.end(), store_id) != stores.end();
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner:
      return "owner";
    case Role::kManager:
      return "manager";
    case Role::kCashier:
      return "cashier";
    case Role::kPlatformAdmin:
      return "platform_admin";
  }
  return "";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role role : {Role::kOwner, Role::kManager, Role::kCashier, Role::kPlatformAdmin}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

}  // namespace kelola::auth
