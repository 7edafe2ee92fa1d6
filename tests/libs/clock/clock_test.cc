#include "libs/clock/clock.h"

#include "gtest/gtest.h"

namespace kelola {
namespace {

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(ClockTest, RealClockIsUtcNow) {
  const absl::Time before = absl::Now();
  const absl::Time now = RealClock::Get().Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now - before, absl::Seconds(5));
}

}  // namespace
}  // namespace kelola
