#include "libs/auth/access_policy.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/errors/errors.h"

namespace kelola::auth {
namespace {

// Owner, manager and the platform's administrators: everything but the cashier's limits.
const std::vector<Role> kStaffAboveCashier = {Role::kOwner, Role::kManager, Role::kPlatformAdmin};
// Tenant settings: the owner (and the platform); not managers.
const std::vector<Role> kOwnerOnly = {Role::kOwner, Role::kPlatformAdmin};

using Table = absl::flat_hash_map<std::string, const std::vector<Role>*>;

void Add(Table& table, absl::string_view service, std::initializer_list<absl::string_view> methods,
         const std::vector<Role>& roles) {
  for (absl::string_view method : methods) {
    table[absl::StrCat("/", service, "/", method)] = &roles;
  }
}

const Table& Policy() {
  static const Table* table = [] {
    auto* t = new Table();
    // Cashiers add and edit customers and read; the rest is for owners and managers.
    Add(*t, "kelola.customer.v1.CustomerService",
        {"DeleteCustomer", "ArchiveCustomer", "RestoreCustomer", "FindDuplicates", "MergeCustomers",
         "ImportCustomers", "ExportCustomers", "EraseCustomer", "ExportCustomerData"},
        kStaffAboveCashier);
    Add(*t, "kelola.customer.v1.CategoryService",
        {"CreateCategory", "UpdateCategory", "DeleteCategory", "SetPriceListEntries",
         "DeletePriceListEntries"},
        kStaffAboveCashier);
    Add(*t, "kelola.customer.v1.TenantService", {"UpdateTenantSettings"}, kOwnerOnly);
    Add(*t, "kelola.ledger.v1.LedgerService",
        {"VoidSale", "RefundSale", "VoidPayment", "SetCreditLimit", "DeleteCreditLimit"},
        kStaffAboveCashier);
    Add(*t, "kelola.report.v1.ReportService", {"ExportReport"}, kStaffAboveCashier);
    return t;
  }();
  return *table;
}

std::string RoleNames(const std::vector<Role>& roles) {
  return absl::StrJoin(roles, "|",
                       [](std::string* out, Role r) { absl::StrAppend(out, RoleName(r)); });
}

}  // namespace

const std::vector<Role>& AllowedRoles(absl::string_view method) {
  static const std::vector<Role> kEveryRole;
  auto it = Policy().find(method);
  return it == Policy().end() ? kEveryRole : *it->second;
}

absl::Status RequireAnyRole(const Principal& principal, const std::vector<Role>& roles,
                            absl::string_view what) {
  for (Role role : roles) {
    if (principal.HasRole(role)) return absl::OkStatus();
  }
  const std::string required = RoleNames(roles);
  return errors::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                       absl::StrCat(what, " needs the role ", required),
                       {{"required_role", required}});
}

absl::Status Authorize(const Principal& principal, absl::string_view method) {
  const std::vector<Role>& roles = AllowedRoles(method);
  if (roles.empty()) return absl::OkStatus();
  return RequireAnyRole(principal, roles, method.substr(method.rfind('/') + 1));
}

absl::Status RequireStore(const Principal& principal, absl::string_view store_id) {
  if (principal.MayUseStore(store_id)) return absl::OkStatus();
  return errors::Error(absl::StatusCode::kPermissionDenied, "STORE_NOT_ALLOWED",
                       absl::StrCat("this principal may not act for store '", store_id, "'"),
                       {{"store_id", std::string(store_id)}});
}

}  // namespace kelola::auth
