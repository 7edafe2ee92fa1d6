#include "ledger-svc/api/tenant_settings_cache.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
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
  ctx.currency = entry.pinned.empty() ? entry.currency : entry.pinned;
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
    backup_->SaveTenantSettings(tenant_id, {entry->currency, entry->time_zone_name, ""})
        .IgnoreError();
  }
  if (previous != nullptr && !previous->pinned.empty()) {
    entry->pinned = previous->pinned;  // only this process changes it
  } else if (backup_ != nullptr) {
    auto stored = backup_->FindTenantSettings(tenant_id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) entry->pinned = (*stored)->ledger_currency;
  }
  return entry;
}

absl::StatusOr<TenantSettingsCache::Entry> TenantSettingsCache::FromBackup(
    const std::string& tenant_id, absl::Status fetch_error) {
  if (backup_ == nullptr) return fetch_error;
  auto stored = backup_->FindTenantSettings(tenant_id);
  if (!stored.ok() || !stored->has_value()) return fetch_error;
  auto entry = MakeEntry({(*stored)->currency_code, (*stored)->time_zone});
  if (entry.ok()) entry->pinned = (*stored)->ledger_currency;
  return entry;
}

absl::StatusOr<std::string> TenantSettingsCache::CheckPinned(const std::string& tenant_id,
                                                             const Entry& entry) {
  const StoredTenantSettings reported{entry.currency, entry.time_zone_name, ""};
  if (entry.pinned.empty()) {
    return backup_->PinLedgerCurrency(tenant_id, reported, /*replace=*/false);
  }
  if (entry.pinned == entry.currency) return entry.pinned;
  auto history = backup_->HasLedgerHistory(tenant_id);
  if (!history.ok()) return history.status();
  if (!*history) return backup_->PinLedgerCurrency(tenant_id, reported, /*replace=*/true);
  return entry.pinned;
}

absl::Status TenantSettingsCache::ResolveForWrite(absl::Time deadline, LedgerContext& ctx) {
  if (auto s = Resolve(deadline, ctx); !s.ok() || backup_ == nullptr) return s;
  Entry entry;
  {
    absl::MutexLock lock(&mu_);
    entry = entries_.at(ctx.tenant_id);
  }
  auto pinned = CheckPinned(ctx.tenant_id, entry);
  if (!pinned.ok()) return pinned.status();
  absl::MutexLock lock(&mu_);
  Entry& e = entries_.at(ctx.tenant_id);
  if (e.currency == entry.currency) e.pinned = *pinned;
  if (*pinned != entry.currency) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CURRENCY_LOCKED",
                         absl::StrCat("the tenant's ledger entries are in ", *pinned,
                                      " but customer-svc now reports ", entry.currency,
                                      "; a currency cannot change once there are entries"),
                         {{"ledger_currency", *pinned}, {"tenant_currency", entry.currency}});
  }
  ctx.currency = entry.currency;
  return absl::OkStatus();
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
