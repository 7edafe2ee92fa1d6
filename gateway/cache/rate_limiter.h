#pragma once

// Per-tenant rate limit shared by every gateway replica: a token bucket per tenant in Redis
// (key kelola:rate:{<tenant>}, a hash of tokens and the refill time), updated by one Lua
// script that reads Redis's own clock (TIME), so replicas with skewed clocks agree.
//
// A replica takes several tokens at once when the limit is large (a lease, kept for at
// most kLeaseWindow; unused ones lapse), so most calls of a busy tenant cost no round trip;
// a small limit is still taken one token at a time.
//
// While Redis cannot be asked (breaker open, timeout, error) a LocalRateLimiter with the
// same parameters decides instead. It sees only this replica's traffic, so with N replicas
// the effective limit can be N times the configured one until Redis is back; refusing all
// traffic, or admitting all of it, would be worse.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/cache/local_rate_limiter.h"
#include "libs/cache/redis_pool.h"
#include "libs/clock/clock.h"

namespace kelola::gateway {

inline constexpr absl::Duration kLeaseWindow = absl::Milliseconds(50);

struct RateLimiterOptions {
  RateLimit limit;
  // Tenants with a limit of their own (plan limits).
  absl::flat_hash_map<std::string, RateLimit> tenant_limits;
};

class RateLimiter {
 public:
  // `clock` drives the local fallback only. Limits are clamped to per_second > 0 and
  // burst >= 1.
  RateLimiter(cache::RedisPool& redis, RateLimiterOptions options, const Clock& clock);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Admits one request of `tenant` or says when to retry: from this replica's lease, or with
  // one round trip to Redis.
  RateDecision Admit(absl::string_view tenant);

  // The limit that applies to `tenant`.
  const RateLimit& LimitFor(absl::string_view tenant) const;

 private:
  // A limit with its script arguments formatted once.
  struct Prepared {
    explicit Prepared(RateLimit limit);
    RateLimit limit;
    std::string per_second;
    std::string burst;
    std::string lease;  // tokens asked of Redis at once
  };
  struct Lease {
    int64_t tokens = 0;
    absl::Time expires;
  };
  bool TakeLeased(absl::string_view tenant, absl::Time now);
  void KeepLeased(absl::string_view tenant, int64_t tokens, absl::Time now);
  const Prepared& PreparedFor(absl::string_view tenant) const;

  cache::RedisPool& redis_;
  const Prepared default_;
  absl::flat_hash_map<std::string, Prepared> tenant_limits_;
  const Clock& clock_;
  LocalRateLimiter local_;
  absl::Mutex leases_mu_;
  absl::flat_hash_map<std::string, Lease> leases_ ABSL_GUARDED_BY(leases_mu_);
};

// The refusal of a call over its tenant's limit: RESOURCE_EXHAUSTED, reason RATE_LIMITED,
// metadata retry_after_ms (whole milliseconds, at least 1).
absl::Status RateLimitedError(const RateDecision& decision);

}  // namespace kelola::gateway
