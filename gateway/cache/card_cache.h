#pragma once

// The summary-card cache in Redis (ARCHITECTURE.md G3; docs/decisions/card-cache.md).
//
// Per (tenant, customer) two keys with one hash tag:
//   kelola:card:{T:C}  hash  v = ledger version, d = serialized SummaryCard   (TTL 1 h)
//   kelola:minv:{T:C}  the lowest version a served card may have: the newest version the
//                      gateways saw written                                    (TTL 7 d)
// Every check runs inside one Lua script, so it is atomic in Redis:
//   Lookup       hit only when v >= max(min_version, minv)
//   Fill         store only when version > v (never older over newer) and version >= minv
//                (a fill that started before an invalidation cannot undo it)
//   NoteWritten  minv = max(minv, version); drop the card when v < version
//
// Redis trouble never fails a read: Lookup reports a miss with the reason in `bypass` (and
// answers at once while the pool's breaker is open); Fill and NoteWritten return their
// status for the caller to count. When NoteWritten fails, Redis cannot promise
// read-your-writes across gateway replicas (another replica may still serve the old card);
// the gateway then relies on the client passing min_ledger_version, which Lookup honours.
//
// Versions are compared as Lua numbers (doubles): exact up to 2^53.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/cache/fill_gate.h"
#include "libs/cache/redis_pool.h"

namespace kelola::report::v1 {
class SummaryCard;
}

namespace kelola::gateway {

struct CardCacheOptions {
  // A safety net for entries nobody invalidates (e.g. NoteWritten lost while Redis was
  // down), not the consistency mechanism.
  absl::Duration card_ttl = absl::Hours(1);
  // Must outlast card_ttl by far: a card may only be cached while its minv is known.
  absl::Duration min_version_ttl = absl::Hours(24 * 7);
};

// Serializes `card` with its ledger_version.
CachedCard ToCachedCard(const report::v1::SummaryCard& card);

struct CardLookup {
  // Set on a hit.
  std::optional<CachedCard> card;
  // max(the request's min_version, minv in Redis): on a miss, ask report-svc for a card
  // of at least this version.
  int64_t min_version = 0;
  // Not OK when Redis could not be asked (breaker open, timeout, error): then a miss.
  absl::Status bypass;
};

class CardCache {
 public:
  // Fetches a card from report-svc of at least `min_version` (the effective minimum that
  // Lookup computed: the request's and the last written version, whichever is higher).
  using Fetcher = std::function<absl::StatusOr<CachedCard>(int64_t min_version)>;

  enum class Source { kCache, kFetched, kSharedFetch };
  struct Read {
    CachedCard card;
    Source source = Source::kCache;
    // The first Redis problem met on the way (lookup bypassed, fill failed), for a metric;
    // the read itself succeeded.
    absl::Status cache_status;
  };

  explicit CardCache(cache::RedisPool& redis, CardCacheOptions options = {});
  CardCache(const CardCache&) = delete;
  CardCache& operator=(const CardCache&) = delete;

  // One round trip. INVALID_ARGUMENT for an empty id or a negative min_version; Redis
  // problems are a miss with `bypass` set, never an error.
  absl::StatusOr<CardLookup> Lookup(absl::string_view tenant, absl::string_view customer,
                                    int64_t min_version);
  // Lookup for many customers of one tenant, pipelined: one round trip. Results in the
  // order of `customers`.
  absl::StatusOr<std::vector<CardLookup>> BatchLookup(absl::string_view tenant,
                                                      absl::Span<const std::string> customers,
                                                      int64_t min_version);
  // Stores `bytes` as the card of `version` unless the cache holds a newer or equal one or
  // a newer version was written meanwhile. True when stored.
  absl::StatusOr<bool> Fill(absl::string_view tenant, absl::string_view customer, int64_t version,
                            absl::string_view bytes);
  // A write (or ledger event) produced `version`: older cards are no longer served, here or
  // on any replica sharing this Redis.
  absl::Status NoteWritten(absl::string_view tenant, absl::string_view customer, int64_t version);

  // The read path: Lookup; on a miss, one fetch per card at a time in this process
  // (FillGate), then Fill. Concurrent misses wait for the running fetch until `deadline`,
  // and fetch again themselves only when it was for an older minimum than they need.
  // Errors are the fetcher's (or DEADLINE_EXCEEDED while waiting).
  absl::StatusOr<Read> Get(absl::string_view tenant, absl::string_view customer,
                           int64_t min_version, absl::Time deadline, const Fetcher& fetch);

 private:
  cache::RedisPool& redis_;
  const std::string card_ttl_ms_;
  const std::string min_version_ttl_ms_;
  FillGate gate_;
};

}  // namespace kelola::gateway
