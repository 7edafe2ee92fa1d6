#include "customer-svc/app/tenant_settings.h"

#include "absl/strings/str_cat.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/auth/access_policy.h"
#include "libs/errors/errors.h"

namespace kelola::customer::app {
namespace {

// Fills the output-only fields of the settings.
absl::Status Decorate(store::DirectoryTx& tx, const store::StoredSettings& stored,
                      v1::TenantSettings* out) {
  *out = stored.settings;
  out->set_tenant_id(tx.tenant_id());
  out->set_etag(domain::EtagFor(stored.version));
  auto count = tx.CountLimitedCustomers(false);
  if (!count.ok()) return count.status();
  out->set_customer_count(static_cast<int32_t>(*count));
  return absl::OkStatus();
}

}  // namespace

absl::Status TenantSettings::Get(absl::string_view tenant, v1::TenantSettings& out) const {
  return store_.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    auto stored = tx.Settings();
    if (!stored.ok()) return stored.status();
    return Decorate(tx, *stored, &out);
  });
}

absl::Status TenantSettings::Update(absl::string_view tenant, const store::WriteOptions& options,
                                    const SettingsChange& change,
                                    v1::UpdateTenantSettingsResponse& response) const {
  return store_.Write(
      tenant, options,
      [&](store::DirectoryTx& tx) -> absl::Status {
        auto stored = tx.Settings();
        if (!stored.ok()) return stored.status();
        if (auto s = domain::CheckEtag(change.patch.etag(), stored->version); !s.ok()) {
          return s;
        }
        auto next = domain::ApplySettingsMask(stored->settings, change.patch, change.paths);
        if (!next.ok()) return next.status();
        if (auto s = domain::ValidateTenantSettings(*next); !s.ok()) return s;
        // The plan limit is the platform's to set, not the shop's (G4).
        if (next->customer_limit() != stored->settings.customer_limit()) {
          if (auto s = auth::RequireAnyRole(change.caller, {auth::Role::kPlatformAdmin},
                                            "changing customer_limit");
              !s.ok()) {
            return s;
          }
        }
        if (next->currency_code() != stored->settings.currency_code()) {
          auto entries = store::CategoryRecords(tx).CountAllPriceEntries();
          if (!entries.ok()) return entries.status();
          if (*entries > 0) {
            return errors::Error(absl::StatusCode::kFailedPrecondition, "CURRENCY_LOCKED",
                                 "the currency cannot change once price lists hold prices",
                                 {{"price_list_entry_count", absl::StrCat(*entries)}});
          }
        }
        store::StoredSettings saved;
        saved.settings = *next;
        saved.settings.set_tenant_id(tx.tenant_id());
        saved.settings.clear_customer_count();
        saved.settings.clear_etag();
        saved.version = stored->version + 1;
        *saved.settings.mutable_update_time() = ToProto(tx.now());
        if (auto s = tx.PutSettings(saved.settings, saved.version); !s.ok()) return s;
        if (auto s = Decorate(tx, saved, response.mutable_settings()); !s.ok()) return s;
        v1::TenantSettingsChanged event;
        *event.mutable_settings() = response.settings();
        return tx.Emit("tenant", tx.tenant_id(), saved.version, event);
      },
      &response);
}

}  // namespace kelola::customer::app
