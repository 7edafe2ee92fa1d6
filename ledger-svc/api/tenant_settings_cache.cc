#include "ledger-svc/api/tenant_settings_cache.h"

#include <optional>

#include "libs/time/time.h"

namespace kelola::ledger {

absl::StatusOr<TenantSettingsCache::Entry> TenantSettingsCache::MakeEntry(
    const TenantSettings& settings) {
  auto zone = time::LoadTenantTimeZone(settings.time_zone);
  if (!zone.ok()) return zone.status();
  Entry entry;
  entry.currency = settings.currency_code;
  entry.time_zone_name = settings.time_zone;
  entry.time_zone = *zone;
  return entry;
}

void TenantSettingsCache::Apply(const Entry& entry, LedgerContext& ctx) {
  ctx.currency = entry.currency;
  ctx.time_zone = entry.time_zone;
}

absl::StatusOr<TenantSettingsCache::Entry> TenantSettingsCache::Fetch(const std::string& tenant_id,
                                                                      absl::Time deadline,
                                                                      const Entry* previous) {
  auto settings = directory_.GetTenantSettings(tenant_id, deadline);
  if (!settings.ok()) return settings.status();
  auto entry = MakeEntry(*settings);
  if (!entry.ok()) return entry.status();
  if (backup_ != nullptr && (previous == nullptr || previous->currency != entry->currency ||
                             previous->time_zone_name != entry->time_zone_name)) {
    // Only a backup: the answer is used even when it cannot be stored now.
    backup_->SaveTenantSettings(tenant_id, {entry->currency, entry->time_zone_name}).IgnoreError();
  }
  return entry;
}

absl::StatusOr<TenantSettingsCache::Entry> TenantSettingsCache::FromBackup(
    const std::string& tenant_id, absl::Status fetch_error) {
  if (backup_ == nullptr) return fetch_error;
  auto stored = backup_->FindTenantSettings(tenant_id);
  if (!stored.ok() || !stored->has_value()) return fetch_error;
  return MakeEntry({(*stored)->currency_code, (*stored)->time_zone});
}

absl::Status TenantSettingsCache::Resolve(absl::Time deadline, LedgerContext& ctx) {
  const absl::Time now = clock_.Now();
  std::optional<Entry> previous;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(ctx.tenant_id);
    if (it != entries_.end()) {
      Entry& e = it->second;
      if (now < e.fetched + options_.ttl || e.refreshing || now < e.retry_at) {
        Apply(e, ctx);
        return absl::OkStatus();
      }
      e.refreshing = true;
      previous = e;
    }
  }
  absl::StatusOr<Entry> answer =
      Fetch(ctx.tenant_id, deadline, previous.has_value() ? &*previous : nullptr);
  if (answer.ok()) {
    answer->fetched = now;
  } else if (!previous.has_value()) {
    answer = FromBackup(ctx.tenant_id, answer.status());
    if (!answer.ok()) return answer.status();
    answer->fetched = absl::InfinitePast();  // ask customer-svc again soon
    answer->retry_at = now + options_.retry_after_failure;
  } else {
    previous->refreshing = false;
    previous->retry_at = now + options_.retry_after_failure;
    answer = *previous;
  }
  absl::MutexLock lock(&mu_);
  Entry& e = entries_[ctx.tenant_id] = *std::move(answer);
  Apply(e, ctx);
  return absl::OkStatus();
}

}  // namespace kelola::ledger
