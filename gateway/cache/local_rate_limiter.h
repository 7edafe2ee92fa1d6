#pragma once

// An in-process token bucket per tenant: the rate limiter's fallback while Redis cannot be
// asked. Same parameters and arithmetic as the Redis script in rate_limiter.cc, but it sees
// only this replica's requests. Thread-safe; time from the injected clock.

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"

namespace kelola::gateway {

struct RateLimit {
  // Sustained requests per second (> 0).
  double per_second = 100;
  // Requests allowed at once after a quiet spell (>= 1): the bucket's size.
  int64_t burst = 200;
};

struct RateDecision {
  bool allowed = true;
  // When refused: how long until one request would be admitted.
  absl::Duration retry_after = absl::ZeroDuration();
  // Decided by this process alone (Redis unavailable), not across replicas.
  bool local = false;
};

class LocalRateLimiter {
 public:
  explicit LocalRateLimiter(const Clock& clock) : clock_(clock) {}
  LocalRateLimiter(const LocalRateLimiter&) = delete;
  LocalRateLimiter& operator=(const LocalRateLimiter&) = delete;

  // Takes one token from `tenant`'s bucket if it has one.
  RateDecision Admit(absl::string_view tenant, const RateLimit& limit);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
  };

  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::gateway
