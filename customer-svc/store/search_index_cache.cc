#include "customer-svc/store/search_index_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "customer-svc/store/query_sql.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/errors/errors.h"
#include "libs/events/outbox.h"
#include "libs/log/log.h"
#include "libs/threads/thread_name.h"

namespace kelola::customer::store {
namespace {

using db::Value;
using ChangedCustomers = absl::flat_hash_map<std::string, std::vector<std::string>>;

constexpr int kLoadChunk = 20000;   // customers read per statement while loading
constexpr int kEventsChunk = 2000;  // events read per statement when catching up
constexpr const char* kCustomerAggregate = "customer";

absl::StatusOr<v1::Customer> ParseCustomer(const db::Row& row, size_t column) {
  v1::Customer customer;
  if (!customer.ParseFromString(row.GetBytes(column))) {
    return absl::InternalError(absl::StrCat("customer ", row.GetText(0), ": corrupt data"));
  }
  return customer;
}

// The search documents of `ids` as stored now; an id without a document (deleted, merged,
// erased) maps to nullopt.
absl::StatusOr<std::vector<std::pair<std::string, std::optional<domain::SearchDoc>>>> ReadDocs(
    db::Transaction& tx, const std::string& tenant, const std::vector<std::string>& ids) {
  absl::flat_hash_map<std::string, std::optional<domain::SearchDoc>> found;
  absl::Status corrupt;
  absl::Status read =
      query_sql::ForEachCustomerRow(tx, tenant, ids, "data", [&](const db::Row& row) {
        auto customer = ParseCustomer(row, 1);
        if (!customer.ok()) {
          corrupt.Update(customer.status());
          return;
        }
        found[row.GetText(0)] = domain::SearchDocOf(*customer);
      });
  if (!read.ok()) return read;
  if (!corrupt.ok()) return corrupt;
  std::vector<std::pair<std::string, std::optional<domain::SearchDoc>>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    auto it = found.find(id);
    out.emplace_back(id, it == found.end() ? std::nullopt : std::move(it->second));
  }
  return out;
}

// Every document of `tenant` search can find, read in customer-id chunks.
absl::StatusOr<std::vector<domain::SearchDoc>> ReadTenantDocs(db::Transaction& tx,
                                                              const std::string& tenant) {
  std::vector<domain::SearchDoc> docs;
  std::string after;
  for (;;) {
    auto rows = tx.Query(
        "SELECT customer_id, data FROM customers WHERE tenant_id = ? AND customer_id > ? AND "
        "state NOT IN (?, ?) ORDER BY customer_id LIMIT ?",
        {tenant, after, static_cast<int64_t>(v1::CUSTOMER_STATE_MERGED),
         static_cast<int64_t>(v1::CUSTOMER_STATE_ERASED), static_cast<int64_t>(kLoadChunk)});
    if (!rows.ok()) return rows.status();
    for (const db::Row& row : *rows) {
      auto customer = ParseCustomer(row, 1);
      if (!customer.ok()) return customer.status();
      if (auto doc = domain::SearchDocOf(*customer)) docs.push_back(*std::move(doc));
    }
    if (rows->size() < static_cast<size_t>(kLoadChunk)) return docs;
    after = rows->back().GetText(0);
  }
}

// Where a catch-up reads up to: the head, and the customers whose events PostgreSQL's
// writers have committed but the sequencer has not numbered yet (outbox.h) into `staged`
// (tenant -> ids), in one statement.
absl::StatusOr<int64_t> ReadCatchUpPosition(db::Transaction& tx, ChangedCustomers* staged) {
  auto position = events::ReadOutboxPosition(tx, kCustomerAggregate);
  if (!position.ok()) return position.status();
  for (events::StagedAggregate& a : position->staged) {
    (*staged)[a.tenant_id].push_back(std::move(a.aggregate_id));
  }
  return position->head;
}

}  // namespace

SearchIndexCache::SearchIndexCache(db::Database& db, const Clock& clock,
                                   SearchIndexCacheOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

SearchIndexCache::~SearchIndexCache() { Stop(); }

void SearchIndexCache::Start() {
  absl::MutexLock lock(&mu_);
  if (loader_.joinable()) return;
  stopping_ = false;
  StartLoader();
}

void SearchIndexCache::StartLoader() {
  loader_ = threads::Start("index-loader", [this] { LoaderLoop(); });
}

absl::Status SearchIndexCache::QueueRecentlyActive(int64_t recent_events, int max_tenants) {
  std::vector<std::string> tenants;
  absl::Status status = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto head = events::ReadHeadSequence(tx);
        if (!head.ok()) return head.status();
        auto rows = tx.Query(
            "SELECT tenant_id, MAX(sequence) AS newest FROM events WHERE sequence > ? AND "
            "aggregate_type = ? GROUP BY tenant_id ORDER BY newest DESC LIMIT ?",
            {*head - recent_events, std::string(kCustomerAggregate),
             static_cast<int64_t>(max_tenants)});
        if (!rows.ok()) return rows.status();
        for (const db::Row& row : *rows) tenants.push_back(row.GetText(0));
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!status.ok()) return status;
  // The most active last: each load marks its tenant used, and the budget drops the
  // least recently used first.
  absl::MutexLock lock(&mu_);
  for (auto it = tenants.rbegin(); it != tenants.rend(); ++it) {
    if (!tenants_.contains(*it) && std::find(queue_.begin(), queue_.end(), *it) == queue_.end()) {
      queue_.push_back(*it);
    }
  }
  return absl::OkStatus();
}

void SearchIndexCache::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (loader_.joinable()) loader_.join();
}

absl::Status SearchIndexCache::Read(db::Transaction& tx, std::string_view tenant_view,
                                    absl::FunctionRef<void(const domain::SearchIndex&)> read) {
  const std::string tenant(tenant_view);
  for (int attempt = 0;; ++attempt) {
    if (absl::Status ready = AwaitLoaded(tenant); !ready.ok()) return ready;
    if (absl::Status s = CatchUp(tx); !s.ok()) {
      // The next catch-up starts from the same position, so nothing is skipped.
      log::Warn("search index: could not apply new events",
                {{"tenant_id", tenant}, {"error", s.ToString()}});
      return errors::Error(absl::StatusCode::kUnavailable, "SEARCH_INDEX_UNAVAILABLE",
                           "the search index could not be brought up to date; retry",
                           {{"tenant_id", tenant}});
    }
    // Whatever index is ready now has what the catch-up applied: it was ready during the
    // catch-up (which applied to it), or became ready after it (FinishLoad applies up to the
    // catch-ups' position). A reload swaps its index in that way. A catch-up that applied
    // nothing found the published position at or past its snapshot, and every index ready
    // at or after that position was published holds it.
    TenantPtr current;
    {
      absl::MutexLock lock(&mu_);
      auto it = tenants_.find(tenant);
      if (it != tenants_.end() && it->second->ready) current = it->second;
    }
    if (current == nullptr) {  // dropped meanwhile (the memory budget): loaded again
      if (attempt < 2) continue;
      return errors::Error(absl::StatusCode::kUnavailable, "SEARCH_INDEX_LOADING",
                           "the tenant's search index is loading; retry shortly",
                           {{"tenant_id", tenant}});
    }
    absl::ReaderMutexLock lock(&current->mu);
    searches_.fetch_add(1, std::memory_order_relaxed);
    read(current->index);
    return absl::OkStatus();
  }
}

uint64_t SearchIndexCache::Generation(std::string_view tenant_view) const {
  TenantPtr t;
  {
    absl::MutexLock lock(&mu_);
    auto it = tenants_.find(std::string(tenant_view));
    if (it == tenants_.end() || !it->second->ready) return 0;
    t = it->second;
  }
  absl::ReaderMutexLock read(&t->mu);
  return t->index.generation();
}

absl::Status SearchIndexCache::AwaitLoaded(std::string_view tenant_view) {
  const std::string tenant(tenant_view);
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = tenants_.find(tenant);
    return it != tenants_.end() && it->second->ready;
  };
  // Being loaded, popped for loading, or queued.
  auto pending = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return tenants_.contains(tenant) || tenant == popped_ ||
           std::find(queue_.begin(), queue_.end(), tenant) != queue_.end();
  };
  if (!ready()) {
    if (!tenants_.contains(tenant) && tenant != popped_) {
      // Ahead of the loads queued at start.
      queue_.erase(std::remove(queue_.begin(), queue_.end(), tenant), queue_.end());
      queue_.insert(queue_.begin(), tenant);
    }
    if (!loader_.joinable() && !stopping_) StartLoader();
    // Also done when the load ended without an index (failed), or the cache stops.
    auto done = [&]()
                    ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || ready() || !pending(); };
    mu_.AwaitWithTimeout(absl::Condition(&done), options_.load_wait);
    if (!ready()) {
      return !stopping_ && pending()
                 ? errors::Error(absl::StatusCode::kUnavailable, "SEARCH_INDEX_LOADING",
                                 "the tenant's search index is loading; retry shortly",
                                 {{"tenant_id", tenant}})
                 : errors::Error(absl::StatusCode::kUnavailable, "SEARCH_INDEX_UNAVAILABLE",
                                 "the tenant's search index could not be loaded; retry",
                                 {{"tenant_id", tenant}});
    }
  }
  tenants_[tenant]->last_used = clock_.Now();
  return absl::OkStatus();
}

absl::Status SearchIndexCache::CatchUp(db::Transaction& tx) {
  ChangedCustomers changed;
  auto head = ReadCatchUpPosition(tx, &changed);
  if (!head.ok()) return head.status();
  // Every ready index holds what this snapshot holds: nothing to read, no turn to wait for
  // (searches would otherwise queue at the lock one by one).
  if (changed.empty() && *head <= applied_published_.load(std::memory_order_acquire)) {
    catch_ups_skipped_.fetch_add(1, std::memory_order_relaxed);
    return absl::OkStatus();
  }
  absl::MutexLock follow(&follow_mu_);
  std::vector<Update> updates;
  if (absl::Status s = ReadUpdates(tx, std::move(changed), *head, &updates); !s.ok()) return s;
  PutUpdates(updates, *head);
  return absl::OkStatus();
}

absl::Status SearchIndexCache::ReadUpdates(db::Transaction& tx, ChangedCustomers changed,
                                           int64_t head, std::vector<Update>* out) {
  if (applied_ < 0) return absl::OkStatus();  // nothing loaded yet
  if (head <= applied_ && changed.empty()) return absl::OkStatus();
  if (absl::Status s = ReadChanged(tx, applied_, head, "", &changed); !s.ok()) return s;
  for (auto& [tenant, ids] : changed) {
    TenantPtr t;
    {
      absl::MutexLock lock(&mu_);
      auto it = tenants_.find(tenant);
      // Not in memory, or still loading: its load reads these changes itself.
      if (it == tenants_.end() || !it->second->ready) continue;
      t = it->second;
    }
    // A snapshot older than the load's rows (SQLite) has nothing newer for this tenant.
    if (head < t->loaded_at) continue;
    auto docs = ReadChangedDocs(tx, tenant, std::move(ids));
    if (!docs.ok()) {
      // Dropped rather than left behind: loaded afresh on its next search.
      log::Warn("search index: could not apply changes; dropping the tenant's index",
                {{"tenant_id", tenant}, {"error", docs.status().ToString()}});
      Drop(tenant, t);
      continue;
    }
    out->push_back({std::move(t), *std::move(docs)});
  }
  return absl::OkStatus();
}

void SearchIndexCache::PutUpdates(const std::vector<Update>& updates, int64_t head) {
  if (applied_ < 0) return;
  for (const Update& u : updates) Put(*u.tenant, u.docs);
  applied_ = std::max(applied_, head);
  applied_published_.store(applied_, std::memory_order_release);
}

// The follower reads what changed in a read transaction and puts it into the indexes after
// the transaction, still in turn with the catch-ups (follow_mu_). Putting thousands of
// customers into an index takes a while (an import's batch); a read transaction held that
// long on SQLite keeps the write-ahead log from starting over, and it then grows by every
// batch written meanwhile. One attempt, so that the mutex is never held while waiting for
// a connection (the order is connection, then mutex; a failure is retried next round).
absl::Status SearchIndexCache::Follow() {
  bool locked = false;
  std::vector<Update> updates;
  int64_t head = 0;
  // The lock outlives the transaction on success: not a scope the analysis can follow.
  auto read = [&](db::Transaction& tx) ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::Status {
    ChangedCustomers changed;
    auto read_head = ReadCatchUpPosition(tx, &changed);
    if (!read_head.ok()) return read_head.status();
    head = *read_head;
    follow_mu_.Lock();
    locked = true;
    absl::Status s = ReadUpdates(tx, std::move(changed), head, &updates);
    if (!s.ok()) {
      locked = false;
      follow_mu_.Unlock();
    }
    return s;
  };
  absl::Status status = db_.InTransaction(read, {.read_only = true, .max_attempts = 1});
  if (locked) {
    if (status.ok()) PutUpdates(updates, head);
    follow_mu_.Unlock();
  }
  return status;
}

void SearchIndexCache::Drop(const std::string& tenant, const TenantPtr& t) {
  TenantPtr dropped;  // freed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end() || it->second != t) return;
  dropped = std::move(it->second);
  tenants_.erase(it);
}

absl::Status SearchIndexCache::Load(std::string_view tenant_view) {
  const std::string tenant(tenant_view);
  auto t = std::make_shared<Tenant>(options_.index);
  {
    // A first load shows readers that the tenant is loading (not ready: they wait, catch-ups
    // pass it by). A reload leaves the ready index in place, kept current by catch-ups and
    // read meanwhile, until FinishLoad swaps the new one in.
    absl::MutexLock lock(&mu_);
    TenantPtr& slot = tenants_[tenant];
    if (slot == nullptr || !slot->ready) slot = t;
  }
  const absl::Time start = clock_.Now();
  absl::Status status = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto head = events::ReadHeadSequence(tx);
        if (!head.ok()) return head.status();
        t->loaded_at = *head;
        auto docs = ReadTenantDocs(tx, tenant);
        if (!docs.ok()) return docs.status();
        absl::MutexLock write(&t->mu);
        t->index.Load(*docs);
        return absl::OkStatus();
      },
      {.read_only = true});
  if (status.ok()) {
    absl::ReaderMutexLock read(&t->mu);
    t->bytes = t->index.bytes();
  }
  if (status.ok()) status = FinishLoad(tenant, t);
  if (!status.ok()) {
    Drop(tenant, t);
    return status;
  }
  log::Info("search index: loaded",
            {{"tenant_id", tenant},
             {"bytes", absl::StrCat(t->bytes)},
             {"seconds", absl::StrCat(absl::ToDoubleSeconds(clock_.Now() - start))}});
  return absl::OkStatus();
}

// Applies what changed in the tenant between the load's rows and the catch-ups' position,
// in a later transaction, and makes the index ready, all while catch-ups wait: nothing
// newer is applied before it, and no catch-up passes the tenant by after it.
// The connection is taken before the lock: a catch-up holding the lock already has its own.
absl::Status SearchIndexCache::FinishLoad(const std::string& tenant, const TenantPtr& t) {
  TenantPtr replaced;  // a reload's old index, freed after the locks are released
  return db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        absl::MutexLock follow(&follow_mu_);
        if (applied_ < 0) applied_ = t->loaded_at;
        ChangedCustomers changed;
        if (absl::Status s = ReadChanged(tx, t->loaded_at, applied_, tenant, &changed); !s.ok()) {
          return s;
        }
        if (absl::Status s = Apply(tx, tenant, changed[tenant], *t); !s.ok()) return s;
        // Ready, in place, counted and within the budget at once, as a waiting reader sees it.
        absl::MutexLock lock(&mu_);
        t->ready = true;
        t->last_used = clock_.Now();
        TenantPtr& slot = tenants_[tenant];
        if (slot != t) replaced = std::exchange(slot, t);
        ++loads_;
        EvictOverBudget(tenant);
        applied_published_.store(applied_, std::memory_order_release);
        return absl::OkStatus();
      },
      {.read_only = true});
}

// The customers of customer events in (after, upto], by tenant (only `tenant` when not
// empty).
absl::Status SearchIndexCache::ReadChanged(db::Transaction& tx, int64_t after, int64_t upto,
                                           const std::string& tenant, ChangedCustomers* out) {
  while (after < upto) {
    auto batch = events::ReadEvents(tx, after, kEventsChunk);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    for (const type::v1::Event& e : *batch) {
      if (e.sequence() > upto) return absl::OkStatus();
      after = e.sequence();
      if (e.aggregate_type() != kCustomerAggregate) continue;
      if (!tenant.empty() && e.tenant_id() != tenant) continue;
      (*out)[e.tenant_id()].push_back(e.aggregate_id());
    }
  }
  return absl::OkStatus();
}

// Re-reads `ids` and puts what search must find of them into the tenant's index.
absl::Status SearchIndexCache::Apply(db::Transaction& tx, const std::string& tenant,
                                     std::vector<std::string> ids, Tenant& t) {
  auto docs = ReadChangedDocs(tx, tenant, std::move(ids));
  if (!docs.ok()) return docs.status();
  Put(t, *docs);
  return absl::OkStatus();
}

// What search must find of the customers `ids`, as stored now (nullopt: gone).
absl::StatusOr<SearchIndexCache::Docs> SearchIndexCache::ReadChangedDocs(
    db::Transaction& tx, const std::string& tenant, std::vector<std::string> ids) {
  if (ids.empty()) return Docs();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ReadDocs(tx, tenant, ids);
}

void SearchIndexCache::Put(Tenant& t, const Docs& docs) {
  if (docs.empty()) return;
  absl::MutexLock write(&t.mu);
  for (const auto& [id, doc] : docs) {
    if (doc.has_value()) {
      t.index.Upsert(*doc);
    } else {
      t.index.Remove(id);
    }
  }
}

void SearchIndexCache::EvictOverBudget(const std::string& keep) {
  for (;;) {
    size_t total = 0;
    std::string coldest;
    absl::Time coldest_use = absl::InfiniteFuture();
    for (const auto& [tenant, t] : tenants_) {
      if (!t->ready) continue;
      total += t->bytes;
      if (tenant != keep && t->last_used < coldest_use) {
        coldest = tenant;
        coldest_use = t->last_used;
      }
    }
    if (total <= options_.memory_budget_bytes || coldest.empty()) return;
    log::Info("search index: dropped a cold tenant's index for the memory budget",
              {{"tenant_id", coldest},
               {"bytes", absl::StrCat(tenants_[coldest]->bytes)},
               {"budget", absl::StrCat(options_.memory_budget_bytes)}});
    tenants_.erase(coldest);  // its readers keep it alive until they finish
    ++evictions_;
  }
}

void SearchIndexCache::LoaderLoop() {
  for (;;) {
    std::string tenant;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.AwaitWithTimeout(absl::Condition(&wake), options_.follow_interval);
      if (stopping_) return;
      if (!queue_.empty()) {
        tenant = queue_.front();
        queue_.erase(queue_.begin());
        popped_ = tenant;  // not queued again before its Load marks it loading
        loading_ = true;
      }
    }
    const absl::Status status = tenant.empty() ? Follow() : Load(tenant);
    if (!status.ok()) {
      log::Warn("search index: could not load or follow events",
                {{"tenant_id", tenant}, {"error", status.ToString()}});
    }
    absl::MutexLock lock(&mu_);
    loading_ = false;
    popped_.clear();
  }
}

void SearchIndexCache::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stopping_ || (queue_.empty() && !loading_);
  };
  mu_.Await(absl::Condition(&idle));
}

SearchIndexCacheStats SearchIndexCache::stats() const {
  SearchIndexCacheStats out;
  std::vector<TenantPtr> ready;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tenant, t] : tenants_) {
      if (!t->ready) continue;
      ready.push_back(t);
      out.bytes += t->bytes;
    }
    out.loads = loads_;
    out.searches = searches_.load(std::memory_order_relaxed);
    out.catch_ups_skipped = catch_ups_skipped_.load(std::memory_order_relaxed);
    out.evictions = evictions_;
  }
  out.tenants = ready.size();
  for (const TenantPtr& t : ready) {
    absl::ReaderMutexLock read(&t->mu);
    out.customers += t->index.size();
  }
  {
    absl::MutexLock follow(&follow_mu_);
    out.applied = applied_;
  }
  return out;
}

}  // namespace kelola::customer::store
