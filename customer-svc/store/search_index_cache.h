#pragma once

// The quick-search indexes of the tenants in use, in memory (C11, issue 13;
// docs/decisions/search-index.md, "Serving search from memory").
//
// A tenant's domain::SearchIndex is loaded from the database on its first read (a search or a
// duplicate check waits for it, up to load_wait) and kept in step with customer-svc's own
// event stream (the outbox, `events`): before every read the cache applies the customer
// events committed since it last looked, re-reading those customers' rows, so a search sees every
// write committed before it began, on every replica (read-your-writes for any caller, without
// sticky routing). On PostgreSQL, events that are committed but not yet numbered by the sequencer
// (`event_staging`) are applied too.
//
// Applying is serialized (one catch-up at a time, rows re-read at that moment), and a load
// becomes ready only after it has applied what changed while it read, so an index only ever
// moves forward (docs/decisions/search-index.md, "Order"). Tenants are evicted coldest first when
// the indexes' bytes pass the memory budget; an evicted tenant is loaded again on its next read.
//
// Thread-safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "customer-svc/domain/search_index.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

struct SearchIndexCacheOptions {
  domain::SearchIndexOptions index;
  // Above this many bytes of indexes the coldest tenants are dropped (never the one just
  // used).
  size_t memory_budget_bytes = size_t{4} << 30;
  // How often the loader thread applies new events when nobody searches (keeps catch-ups
  // at search time short).
  absl::Duration follow_interval = absl::Milliseconds(250);
  // How long a read waits for its tenant's index to load before it is refused.
  absl::Duration load_wait = absl::Seconds(10);
};

struct SearchIndexCacheStats {
  size_t tenants = 0;     // indexes loaded
  size_t bytes = 0;       // their estimated bytes
  size_t customers = 0;   // customers in them
  int64_t applied = 0;    // events applied up to this sequence
  int64_t loads = 0;      // indexes loaded since start
  int64_t evictions = 0;  // indexes dropped for the budget
  int64_t searches = 0;   // reads of an index (searches, duplicate checks)
  // Catch-ups that found nothing to apply (a snapshot holding nothing the indexes lack) and
  // took no turn at the catch-up lock.
  int64_t catch_ups_skipped = 0;
};

class SearchIndexCache {
 public:
  SearchIndexCache(db::Database& db, const Clock& clock, SearchIndexCacheOptions options = {});
  ~SearchIndexCache();
  SearchIndexCache(const SearchIndexCache&) = delete;
  SearchIndexCache& operator=(const SearchIndexCache&) = delete;

  // Starts / stops the loader thread (background loads, following events when idle).
  void Start();
  void Stop();

  // Runs `read` on `tenant`'s index, under its reader lock, after applying the events
  // committed before `tx` began. A tenant not in memory is loaded first by the loader
  // thread (started here when need be), ahead of the loads queued at start; the caller waits
  // at most `load_wait` for it and then gets UNAVAILABLE (reason SEARCH_INDEX_LOADING) while
  // the load goes on. UNAVAILABLE (SEARCH_INDEX_UNAVAILABLE) too when the new events cannot be
  // read or the load failed.
  absl::Status Read(db::Transaction& tx, std::string_view tenant,
                    absl::FunctionRef<void(const domain::SearchIndex&)> read);
  // Waits, as Read does, until `tenant`'s index is in memory, with the same errors. Called
  // before the reader opens its transaction, so that waiting readers hold no connection the
  // load needs.
  absl::Status AwaitLoaded(std::string_view tenant) ABSL_LOCKS_EXCLUDED(mu_);
  // The generation of `tenant`'s ready index (domain::SearchIndex::generation), 0 when none
  // is ready.
  uint64_t Generation(std::string_view tenant) const ABSL_LOCKS_EXCLUDED(mu_);

  // Queues the loads of the tenants whose customers changed in the last `recent_events`
  // events (at most `max_tenants`, the most recently active), so that their first search
  // after a start is already answered from memory.
  absl::Status QueueRecentlyActive(int64_t recent_events, int max_tenants);

  // Loads (or reloads) `tenant`'s index now, in its own transactions. During a reload the
  // index in memory keeps being read and kept current until the new one replaces it.
  absl::Status Load(std::string_view tenant);
  // Applies the events committed since the last catch-up: reads them in its own transaction
  // and puts them into the indexes after it.
  absl::Status Follow() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // Blocks until no load is queued or running (tests).
  void WaitIdle();

  SearchIndexCacheStats stats() const;

 private:
  struct Tenant {
    explicit Tenant(const domain::SearchIndexOptions& options) : index(options) {}
    absl::Mutex mu;  // reader lock to search, writer lock to change the index
    domain::SearchIndex index ABSL_GUARDED_BY(mu);
    // Set by the load before the index is shared:
    int64_t loaded_at = 0;  // the events its rows reflect (at least)
    size_t bytes = 0;       // measured when loaded
    // Guarded by the cache's mu_:
    bool ready = false;
    absl::Time last_used;
  };
  using TenantPtr = std::shared_ptr<Tenant>;
  using ChangedCustomers = absl::flat_hash_map<std::string, std::vector<std::string>>;

  // Re-read documents of changed customers, by id (nullopt: the customer is gone).
  using Docs = std::vector<std::pair<std::string, std::optional<domain::SearchDoc>>>;
  // What a catch-up puts into one tenant's index.
  struct Update {
    TenantPtr tenant;
    Docs docs;
  };

  absl::Status CatchUp(db::Transaction& tx) ABSL_LOCKS_EXCLUDED(follow_mu_);
  // What changed since applied_ up to `head` (plus `changed`, the staged customers), read in
  // `tx` for the tenants whose indexes are ready; a tenant whose documents cannot be read
  // is dropped.
  absl::Status ReadUpdates(db::Transaction& tx, ChangedCustomers changed, int64_t head,
                           std::vector<Update>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(follow_mu_);
  // Puts `updates` into their indexes and moves applied_ to `head`.
  void PutUpdates(const std::vector<Update>& updates, int64_t head)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(follow_mu_);
  static absl::StatusOr<Docs> ReadChangedDocs(db::Transaction& tx, const std::string& tenant,
                                              std::vector<std::string> ids);
  static void Put(Tenant& t, const Docs& docs);
  absl::Status FinishLoad(const std::string& tenant, const TenantPtr& t)
      ABSL_LOCKS_EXCLUDED(follow_mu_);
  // Forgets the tenant's index if it is still `t`.
  void Drop(const std::string& tenant, const TenantPtr& t) ABSL_LOCKS_EXCLUDED(mu_);
  static absl::Status ReadChanged(db::Transaction& tx, int64_t after, int64_t upto,
                                  const std::string& tenant, ChangedCustomers* out);
  static absl::Status Apply(db::Transaction& tx, const std::string& tenant,
                            std::vector<std::string> ids, Tenant& t);
  void EvictOverBudget(const std::string& keep) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoaderLoop();
  // Starts the thread of LoaderLoop (named index-loader) into loader_.
  void StartLoader() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  db::Database& db_;
  const Clock& clock_;
  const SearchIndexCacheOptions options_;

  // Catch-ups and the end of loads take turns, so rows re-read later are applied later.
  mutable absl::Mutex follow_mu_;
  int64_t applied_ ABSL_GUARDED_BY(follow_mu_) = -1;  // -1: not read yet
  // applied_, published once every ready index holds it (stored under follow_mu_): a
  // catch-up whose snapshot holds nothing newer returns without taking its turn.
  std::atomic<int64_t> applied_published_{-1};

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, TenantPtr> tenants_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> queue_ ABSL_GUARDED_BY(mu_);  // tenants to load
  bool loading_ ABSL_GUARDED_BY(mu_) = false;
  std::string popped_ ABSL_GUARDED_BY(mu_);  // the tenant the loader took off the queue
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> searches_{0};
  std::atomic<int64_t> catch_ups_skipped_{0};
  std::thread loader_;
};

}  // namespace kelola::customer::store
