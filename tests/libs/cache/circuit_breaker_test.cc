// The circuit breaker's states, timed by a fake clock.

#include "libs/cache/circuit_breaker.h"

#include "gtest/gtest.h"

namespace kelola::cache {
namespace {

using Admission = CircuitBreaker::Admission;

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndProbesAfterCoolDown) {
  FakeClock clock;
  CircuitBreaker breaker({.failure_threshold = 3, .cool_down = absl::Seconds(1)}, clock);
  EXPECT_EQ(breaker.Allow(), Admission::kAllowed);
  breaker.RecordFailure();
  breaker.RecordFailure();
  breaker.RecordSuccess();  // resets the streak
  breaker.RecordFailure();
  breaker.RecordFailure();
  EXPECT_FALSE(breaker.open());
  breaker.RecordFailure();
  EXPECT_TRUE(breaker.open());
  EXPECT_EQ(breaker.Allow(), Admission::kRefused);
  EXPECT_EQ(breaker.Allow(), Admission::kRefused);
  EXPECT_EQ(breaker.bypassed(), 2);

  clock.Advance(absl::Milliseconds(1001));
  EXPECT_EQ(breaker.Allow(), Admission::kProbe);
  EXPECT_EQ(breaker.Allow(), Admission::kRefused);  // one probe at a time
  breaker.RecordFailure();                          // the probe failed: another cool-down
  EXPECT_TRUE(breaker.open());
  EXPECT_EQ(breaker.Allow(), Admission::kRefused);
  clock.Advance(absl::Milliseconds(1001));
  EXPECT_EQ(breaker.Allow(), Admission::kProbe);
  breaker.RecordSuccess();
  EXPECT_FALSE(breaker.open());
  EXPECT_EQ(breaker.Allow(), Admission::kAllowed);
  EXPECT_EQ(breaker.bypassed(), 4);
}

}  // namespace
}  // namespace kelola::cache
