#include "gateway/cache/local_rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace kelola::gateway {

RateDecision LocalRateLimiter::Admit(absl::string_view tenant, const RateLimit& limit) {
  const absl::Time now = clock_.Now();
  const auto burst = static_cast<double>(limit.burst);
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = buckets_.try_emplace(tenant);
  Bucket& bucket = it->second;
  if (fresh) {
    bucket.tokens = burst;
    bucket.refilled = now;
  } else if (now > bucket.refilled) {
    const double elapsed = absl::ToDoubleSeconds(now - bucket.refilled);
    bucket.tokens = std::min(burst, bucket.tokens + elapsed * limit.per_second);
    bucket.refilled = now;
  }
  RateDecision decision;
  decision.local = true;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
  } else {
    decision.allowed = false;
    // Whole microseconds, rounded up, as the Redis script answers.
    decision.retry_after =
        absl::Microseconds(std::ceil((1 - bucket.tokens) * 1e6 / limit.per_second));
  }
  return decision;
}

}  // namespace kelola::gateway
