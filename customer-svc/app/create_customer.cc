#include "customer-svc/app/create_customer.h"

#include <optional>
#include <utility>

#include "customer-svc/app/customer_writes.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/errors/errors.h"

namespace kelola::customer::app {

std::optional<store::StoredSettings> TenantSettingsMemo::Get(absl::string_view tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = by_tenant_.find(tenant);
  if (it == by_tenant_.end()) return std::nullopt;
  return it->second;
}

void TenantSettingsMemo::Put(absl::string_view tenant, const store::StoredSettings& settings) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = by_tenant_.try_emplace(tenant, settings);
  if (!inserted && it->second.version != settings.version) it->second = settings;
}

absl::Status CreateCustomer::Run(const std::string& tenant, store::WriteOptions options,
                                 const NewCustomerCommand& cmd,
                                 v1::CreateCustomerResponse& response) {
  if (!cmd.customer_id.empty()) {
    options.extra_keys.emplace_back("CreateCustomer.customer_id", cmd.customer_id);
  }
  // Validated here when the tenant's settings are known (TenantSettingsMemo); again in the
  // transaction only if they changed meanwhile.
  struct Validated {
    int64_t settings_version = 0;
    v1::Customer customer;
    errors::FieldErrors errors;
  };
  auto validate = [&](const store::StoredSettings& settings,
                      absl::Time now) -> absl::StatusOr<Validated> {
    auto tz = TenantZone(settings.settings);
    if (!tz.ok()) return tz.status();
    const domain::ValidationContext vc{settings.settings.default_phone_region(), now, *tz};
    Validated v;
    v.settings_version = settings.version;
    v.customer =
        domain::NormalizeCustomer(cmd.customer, vc, phones_, {true, true}, "customer", v.errors);
    return v;
  };
  std::optional<Validated> early;
  if (auto known = settings_memo_.Get(tenant); known.has_value()) {
    auto v = validate(*known, clock_.Now());
    if (v.ok()) early = *std::move(v);
  }

  return store_.Write(
      tenant, options,
      [&](store::DirectoryTx& tx) -> absl::Status {
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        settings_memo_.Put(tenant, *settings);
        Validated v;
        if (early.has_value() && early->settings_version == settings->version) {
          v = *early;  // a copy: the transaction may run again
        } else {
          auto fresh = validate(*settings, tx.now());
          if (!fresh.ok()) return fresh.status();
          v = *std::move(fresh);
        }
        if (auto s = CheckCategory(tx, v.customer.category_id(), v.errors); !s.ok()) return s;
        if (!v.errors.empty()) return domain::ToValidationStatus(v.errors);

        const std::string id = cmd.customer_id.empty() ? ids_.NewId() : cmd.customer_id;
        KnownAboutNewCustomer known;
        known.id_is_new = cmd.customer_id.empty();
        auto created = InsertNewCustomer(tx, settings->settings, std::move(v.customer), id,
                                         cmd.allow_duplicate, std::nullopt, known);
        if (!created.ok()) return created.status();
        tx.SetIdempotencySubject(id);
        *response.mutable_customer() = *std::move(created);
        return absl::OkStatus();
      },
      &response);
}

}  // namespace kelola::customer::app
