#pragma once

// Each tenant's currency and time zone, as customer-svc keeps them (TenantSettings), for
// every ledger call. The ledger never takes them from the caller: a request header could
// otherwise let a THB payment settle an IDR sale. Answers are cached for a short time, so
// that a changed time zone is seen within a minute while calls rarely wait for
// customer-svc.

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger-svc/domain/customer_directory.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/clock/clock.h"

namespace kelola::ledger {

struct TenantSettingsCacheOptions {
  // How long an answer is used before it is asked for again.
  absl::Duration ttl = absl::Seconds(60);
  // After a failed refresh, how long the previous answer is used before asking again.
  absl::Duration retry_after_failure = absl::Seconds(5);
};

class TenantSettingsCache {
 public:
  // With `backup`, customer-svc's answers are also stored in the ledger's database, so
  // that after a restart the last answer is known even while customer-svc is down.
  TenantSettingsCache(CustomerDirectory& directory, const Clock& clock,
                      LedgerStore* backup = nullptr, TenantSettingsCacheOptions options = {})
      : directory_(directory), clock_(clock), backup_(backup), options_(options) {}

  // Sets ctx.currency and ctx.time_zone for ctx.tenant_id, for reads: from the cache while
  // fresh, else from customer-svc (waiting at most until `deadline`). When customer-svc
  // cannot answer, an earlier answer is used however old, from memory or else from the
  // backup; without one, UNAVAILABLE CUSTOMER_SERVICE_UNAVAILABLE. With a backup, the
  // currency is the one the tenant's ledger history is in once pinned (see
  // ResolveForWrite), even when customer-svc now reports another.
  absl::Status Resolve(absl::Time deadline, LedgerContext& ctx);

  // Resolve, for a write. With a backup, the ledger is the authority on its history: the
  // first write pins the tenant's currency in the backup; when customer-svc later reports
  // another currency while the tenant has ledger entries, FAILED_PRECONDITION
  // CURRENCY_LOCKED (metadata ledger_currency, tenant_currency). Without entries, the
  // reported currency is pinned instead.
  absl::Status ResolveForWrite(absl::Time deadline, LedgerContext& ctx);

 private:
  struct Entry {
    std::string currency;
    std::string time_zone_name;
    absl::TimeZone time_zone;
    std::string pinned;  // the ledger history's currency from the backup; "" = unknown
    absl::Time fetched;  // when customer-svc answered
    absl::Time retry_at = absl::InfinitePast();  // after a failed refresh
    bool refreshing = false;                     // one caller asks; others use this
  };

  // An entry for `settings` (the time zone loaded).
  static absl::StatusOr<Entry> MakeEntry(const TenantSettings& settings);
  // customer-svc's answer, stored in the backup when it is new to this process or changed.
  absl::StatusOr<Entry> Fetch(const std::string& tenant_id, absl::Time deadline,
                              const Entry* previous);
  // The backup's last answer, when customer-svc cannot give one.
  absl::StatusOr<Entry> FromBackup(const std::string& tenant_id, absl::Status fetch_error);
  static void Apply(const Entry& entry, LedgerContext& ctx);
  // The currency pinned in the backup for a write in entry.currency: pins it when none
  // is, or re-pins it when the tenant has no ledger entries (see ResolveForWrite).
  absl::StatusOr<std::string> CheckPinned(const std::string& tenant_id, const Entry& entry);

  CustomerDirectory& directory_;
  const Clock& clock_;
  LedgerStore* const backup_;
  const TenantSettingsCacheOptions options_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::ledger
