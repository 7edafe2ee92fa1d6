#include "gateway/cache/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/cache/redis_keys.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {
namespace {

// A token bucket. KEYS: the bucket. ARGV: tokens per second, burst.
// -> {1, 0} admitted, or {0, microseconds until a token is due}.
// The bucket expires once it would be full again, which is the same as a missing one.
const cache::RedisScript& TokenBucketScript() {
  static const cache::RedisScript* script = new cache::RedisScript(R"lua(
redis.replicate_commands()
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1])
local at = tonumber(bucket[2])
if not tokens or not at then
  tokens = burst
  at = now
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
  at = now
end
local allowed = 0
local wait = 0
if tokens >= 1 then
  allowed = math.min(want, math.floor(tokens))
  tokens = tokens - allowed
else
  wait = math.ceil((1 - tokens) * 1000000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.0f', at))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(burst * 1000 / rate) + 1000))
return {allowed, wait}
)lua");
  return *script;
}

RateLimit Clamp(RateLimit limit) {
  if (!(limit.per_second > 0)) limit.per_second = 1e-3;
  limit.burst = std::max<int64_t>(1, limit.burst);
  return limit;
}

// Tokens taken from Redis at once: what the tenant may use in a lease window at its rate,
// at most a quarter of its burst (so replicas share fairly), at least one. Small limits
// thus stay exact (one token per round trip); large ones cost a round trip per many calls.
int64_t LeaseSize(const RateLimit& limit) {
  const double window_tokens = limit.per_second * absl::ToDoubleSeconds(kLeaseWindow);
  return std::max<int64_t>(1,
                           std::min<int64_t>(static_cast<int64_t>(window_tokens), limit.burst / 4));
}

}  // namespace

RateLimiter::Prepared::Prepared(RateLimit limit)
    : limit(Clamp(limit)),
      per_second(absl::StrFormat("%.17g", this->limit.per_second)),
      burst(absl::StrFormat("%d", this->limit.burst)),
      lease(absl::StrFormat("%d", LeaseSize(this->limit))) {}

RateLimiter::RateLimiter(cache::RedisPool& redis, RateLimiterOptions options, const Clock& clock)
    : redis_(redis), default_(options.limit), clock_(clock), local_(clock) {
  for (const auto& [tenant, limit] : options.tenant_limits)
    tenant_limits_.try_emplace(tenant, limit);
}

const RateLimiter::Prepared& RateLimiter::PreparedFor(absl::string_view tenant) const {
  auto it = tenant_limits_.find(tenant);
  return it != tenant_limits_.end() ? it->second : default_;
}

const RateLimit& RateLimiter::LimitFor(absl::string_view tenant) const {
  return PreparedFor(tenant).limit;
}

bool RateLimiter::TakeLeased(absl::string_view tenant, absl::Time now) {
  absl::MutexLock lock(&leases_mu_);
  auto it = leases_.find(tenant);
  if (it == leases_.end() || it->second.tokens <= 0 || now >= it->second.expires) return false;
  --it->second.tokens;
  return true;
}

void RateLimiter::KeepLeased(absl::string_view tenant, int64_t tokens, absl::Time now) {
  absl::MutexLock lock(&leases_mu_);
  Lease& lease = leases_[tenant];
  if (now >= lease.expires) lease.tokens = 0;
  lease.tokens += tokens;
  lease.expires = now + kLeaseWindow;
}

RateDecision RateLimiter::Admit(absl::string_view tenant) {
  const absl::Time now = clock_.Now();
  if (TakeLeased(tenant, now)) return RateDecision{};
  const Prepared& prepared = PreparedFor(tenant);
  const std::string key = TenantKey("rate", tenant);
  absl::StatusOr<cache::RedisReply> reply = redis_.EvalScriptShared(
      TokenBucketScript(), {key}, {prepared.per_second, prepared.burst, prepared.lease});
  if (reply.ok() && reply->type == cache::RedisReply::Type::kArray && reply->elements.size() == 2) {
    RateDecision decision;
    const int64_t granted = reply->elements[0].integer;
    decision.allowed = granted >= 1;
    decision.retry_after = absl::Microseconds(reply->elements[1].integer);
    if (granted > 1) KeepLeased(tenant, granted - 1, now);
    return decision;
  }
  return local_.Admit(tenant, prepared.limit);
}

absl::Status RateLimitedError(const RateDecision& decision) {
  const int64_t retry_ms = std::max<int64_t>(
      1, absl::ToInt64Milliseconds(absl::Ceil(decision.retry_after, absl::Milliseconds(1))));
  return errors::Error(
      absl::StatusCode::kResourceExhausted, "RATE_LIMITED",
      absl::StrCat("the tenant's rate limit is reached; retry in ", retry_ms, " ms"),
      {{"retry_after_ms", absl::StrCat(retry_ms)}});
}

}  // namespace kelola::gateway
