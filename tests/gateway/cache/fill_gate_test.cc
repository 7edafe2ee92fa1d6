// Single flight without Redis: one fetch per key, shared results and errors, deadlines.

#include "gateway/cache/fill_gate.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kelola::gateway {
namespace {

TEST(FillGateTest, WaitersShareTheLeadersResultOrError) {
  FillGate gate;
  absl::Notification started;
  absl::Notification release;
  absl::StatusOr<CachedCard> answer = absl::UnavailableError("report-svc down");
  std::thread leader([&] {
    FillGate::Outcome outcome = gate.Do("k", absl::InfiniteFuture(), [&] {
      started.Notify();
      release.WaitForNotification();
      return answer;
    });
    EXPECT_TRUE(outcome.led);
  });
  started.WaitForNotification();
  EXPECT_EQ(gate.in_flight(), 1u);
  std::thread waiter([&] {
    FillGate::Outcome outcome = gate.Do("k", absl::InfiniteFuture(), [] {
      ADD_FAILURE() << "a second fetch ran";
      return absl::StatusOr<CachedCard>(CachedCard{});
    });
    EXPECT_FALSE(outcome.led);
    EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kUnavailable);
  });
  // Another key is not held up.
  FillGate::Outcome other = gate.Do("other", absl::InfiniteFuture(), [] {
    return absl::StatusOr<CachedCard>(CachedCard{"x", 1});
  });
  EXPECT_TRUE(other.led);
  absl::SleepFor(absl::Milliseconds(50));
  release.Notify();
  leader.join();
  waiter.join();
  EXPECT_EQ(gate.in_flight(), 0u);
}

TEST(FillGateTest, AWaiterGivesUpAtItsDeadline) {
  FillGate gate;
  absl::Notification started;
  absl::Notification release;
  std::thread leader([&] {
    gate.Do("k", absl::InfiniteFuture(), [&] {
      started.Notify();
      release.WaitForNotification();
      return absl::StatusOr<CachedCard>(CachedCard{"x", 1});
    });
  });
  started.WaitForNotification();
  const absl::Time start = absl::Now();
  FillGate::Outcome outcome = gate.Do("k", absl::Now() + absl::Milliseconds(50),
                                      [] { return absl::StatusOr<CachedCard>(CachedCard{}); });
  EXPECT_EQ(outcome.result.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  release.Notify();
  leader.join();
}

}  // namespace
}  // namespace kelola::gateway
