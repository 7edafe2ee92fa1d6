// The per-tenant rate limiter against a real redis-server, and its local fallback.

#include "gateway/cache/rate_limiter.h"

#include "tests/gateway/cache/redis_fixture.h"

namespace kelola::gateway {
namespace {

class RateLimiterTest : public RedisFixture {
 protected:
  // One token a second after a burst of five: nothing refills during a test step.
  static RateLimiterOptions Options() {
    RateLimiterOptions options;
    options.limit = {.per_second = 1, .burst = 5};
    options.tenant_limits["big"] = {.per_second = 1, .burst = 8};
    return options;
  }

  static int Admitted(RateLimiter& limiter, absl::string_view tenant, int calls) {
    int admitted = 0;
    for (int i = 0; i < calls; ++i) admitted += limiter.Admit(tenant).allowed ? 1 : 0;
    return admitted;
  }

  FakeClock clock_;
};

TEST_F(RateLimiterTest, TheLimitHoldsAcrossReplicas) {
  auto pool_a = NewPool();
  auto pool_b = NewPool();
  RateLimiter a(*pool_a, Options(), clock_);
  RateLimiter b(*pool_b, Options(), clock_);
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    const RateDecision decision = (i % 2 == 0 ? a : b).Admit("t1");
    EXPECT_FALSE(decision.local);
    if (decision.allowed) {
      ++admitted;
      EXPECT_EQ(decision.retry_after, absl::ZeroDuration());
    } else {
      // The bucket is empty: the next token is due within a second.
      EXPECT_GT(decision.retry_after, absl::Milliseconds(800));
      EXPECT_LE(decision.retry_after, absl::Seconds(1));
    }
  }
  EXPECT_EQ(admitted, 5);
  // Tenants have buckets of their own, and overrides apply.
  EXPECT_EQ(Admitted(b, "t2", 7), 5);
  EXPECT_EQ(Admitted(a, "big", 10), 8);
  EXPECT_EQ(a.LimitFor("big").burst, 8);

  absl::SleepFor(absl::Milliseconds(1100));  // Redis's clock: one token back
  EXPECT_TRUE(a.Admit("t1").allowed);
  EXPECT_FALSE(b.Admit("t1").allowed);
}

TEST_F(RateLimiterTest, LocalLimitsApplyWhileRedisIsDown) {
  auto pool = NewPool();
  RateLimiter limiter(*pool, Options(), clock_);
  EXPECT_EQ(Admitted(limiter, "t1", 3), 3);
  ASSERT_TRUE(server_->Kill().ok());

  // The local bucket starts full: five more, then refusals with the local retry time.
  const absl::Time start = absl::Now();
  for (int i = 0; i < 5; ++i) {
    const RateDecision decision = limiter.Admit("t1");
    EXPECT_TRUE(decision.allowed);
    EXPECT_TRUE(decision.local);
  }
  RateDecision refused = limiter.Admit("t1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.local);
  EXPECT_EQ(refused.retry_after, absl::Seconds(1));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));

  clock_.Advance(absl::Milliseconds(1500));
  EXPECT_TRUE(limiter.Admit("t1").allowed);
  EXPECT_FALSE(limiter.Admit("t1").allowed);

  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(Eventually([&] { return !limiter.Admit("t1").local; }));
}

TEST(LocalRateLimiterTest, RefillsAtTheConfiguredRate) {
  FakeClock clock;
  LocalRateLimiter limiter(clock);
  const RateLimit limit{.per_second = 10, .burst = 2};
  EXPECT_TRUE(limiter.Admit("t", limit).allowed);
  EXPECT_TRUE(limiter.Admit("t", limit).allowed);
  RateDecision refused = limiter.Admit("t", limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, absl::Milliseconds(100));
  clock.Advance(absl::Milliseconds(50));
  EXPECT_EQ(limiter.Admit("t", limit).retry_after, absl::Milliseconds(50));
  clock.Advance(absl::Milliseconds(50));
  EXPECT_TRUE(limiter.Admit("t", limit).allowed);
  clock.Advance(absl::Seconds(10));  // never more than the burst
  EXPECT_TRUE(limiter.Admit("t", limit).allowed);
  EXPECT_TRUE(limiter.Admit("t", limit).allowed);
  EXPECT_FALSE(limiter.Admit("t", limit).allowed);
}

}  // namespace
}  // namespace kelola::gateway
