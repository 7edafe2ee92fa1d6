// PeriodicTask: runs at once, then every interval, and stops promptly.

#include "libs/server/periodic_task.h"

#include <atomic>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/threads/thread_name.h"

namespace kelola::server {
namespace {

TEST(PeriodicTaskTest, RunsAtOnceThenEveryIntervalUntilStopped) {
  std::atomic<int> runs{0};
  PeriodicTask task("test-task", absl::Milliseconds(20), [&] { runs.fetch_add(1); });
  task.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (runs.load() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(runs.load(), 3);
  task.Stop();
  const int stopped_at = runs.load();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(runs.load(), stopped_at);  // nothing runs after Stop
}

TEST(PeriodicTaskTest, StopDoesNotWaitForTheInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task("test-task", absl::Hours(1), [&] { runs.fetch_add(1); });
  task.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (runs.load() < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  const absl::Time before = absl::Now();
  task.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(1));
  EXPECT_EQ(runs.load(), 1);
}

TEST(PeriodicTaskTest, RunsOnAThreadOfItsName) {
  absl::Mutex mu;
  std::string seen;
  PeriodicTask task("stats-planner", absl::Hours(1), [&] {
    absl::MutexLock lock(&mu);
    seen = threads::ThisThreadName();
  });
  task.Start();
  task.Stop();  // waits for the run that Start began
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen, "stats-planner");
}

TEST(PeriodicTaskTest, StoppingATaskThatNeverStartedIsHarmless) {
  PeriodicTask task("test-task", absl::Seconds(1), [] {});
  task.Stop();
}

}  // namespace
}  // namespace kelola::server
