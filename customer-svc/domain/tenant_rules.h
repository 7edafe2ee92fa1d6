#pragma once

// Tenant settings (ARCHITECTURE.md "Tenancy"): defaults and validation; the category
// defaults (C9); the collation locale for name sort keys.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kelola/customer/v1/tenant.pb.h"

namespace kelola::customer::domain {

// The settings a tenant reads before it stores any: region ID, currency IDR, time zone
// Asia/Jakarta, language "id", no customer limit.
v1::TenantSettings DefaultTenantSettings(absl::string_view tenant_id);

// Validates the writable fields of `settings`; every bad field is named (under "settings.").
absl::Status ValidateTenantSettings(const v1::TenantSettings& settings);

// Applies `paths` (empty = every writable field) of `patch` onto `current`;
// INVALID_UPDATE_MASK for unknown paths.
absl::StatusOr<v1::TenantSettings> ApplySettingsMask(const v1::TenantSettings& current,
                                                     const v1::TenantSettings& patch,
                                                     const std::vector<std::string>& paths);

// "th" for Thai tenants, else "id": the locale of customers.name_sort_key.
std::string CollationLocale(absl::string_view phone_region);

struct DefaultCategory {
  const char* id;
  const char* name;
};
// Retail, Wholesale, VIP, Corporate, Member with ids "retail", ... (C9).
const std::vector<DefaultCategory>& DefaultCategories();

// Category ids: 1-64 characters of [A-Za-z0-9_-].
bool IsValidCategoryId(absl::string_view id);

}  // namespace kelola::customer::domain
