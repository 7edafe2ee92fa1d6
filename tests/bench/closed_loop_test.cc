// The closed loop over a fixed number of calls (bench/harness/closed_loop.h): every index
// started once, never more calls in flight than asked, errors counted apart, and the
// blocking form for thread clients.
#include "bench/harness/closed_loop.h"

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/harness/thread_pool.h"
#include "gtest/gtest.h"

namespace kelola::bench {
namespace {

// Each test completes its calls on a pool of three threads, as gRPC's callback threads
// would: never on the caller's stack, and several at once.
constexpr int kCompleters = 3;

TEST(RunClosedLoopCountTest, StartsEveryIndexOnceWithAtMostTheCallsInFlight) {
  ThreadPool completer("completer", kCompleters);
  constexpr int64_t kTotal = 1000;
  std::vector<std::atomic<int>> started(kTotal);
  std::atomic<int> in_flight{0}, most_in_flight{0};
  const IndexedAsyncCall call = [&](int64_t index, std::function<void(absl::Status)> done) {
    started[index].fetch_add(1);
    const int now = in_flight.fetch_add(1) + 1;
    int seen = most_in_flight.load();
    while (now > seen && !most_in_flight.compare_exchange_weak(seen, now)) {
    }
    completer.Post([&, index, done = std::move(done)] {
      absl::SleepFor(absl::Microseconds(200));  // the four first calls are all in flight
      in_flight.fetch_sub(1);
      // Every tenth call fails: counted apart, not in the latencies.
      done(index % 10 == 0 ? absl::UnavailableError("down") : absl::OkStatus());
    });
  };
  const LoadResult r = RunClosedLoopCount(4, kTotal, absl::Minutes(1), call);
  for (int64_t i = 0; i < kTotal; ++i) EXPECT_EQ(started[i].load(), 1) << i;
  EXPECT_EQ(most_in_flight.load(), 4);
  EXPECT_EQ(r.clients, 4);
  EXPECT_EQ(r.operations, kTotal - kTotal / 10);
  EXPECT_EQ(r.errors, kTotal / 10);
  EXPECT_NE(r.first_error.find("down"), std::string::npos) << r.first_error;
  EXPECT_GT(r.per_second, 0);
}

TEST(RunClosedLoopCountTest, StopsStartingCallsAfterItsTime) {
  ThreadPool completer("completer", kCompleters);
  std::atomic<int64_t> calls{0};
  const IndexedAsyncCall call = [&](int64_t, std::function<void(absl::Status)> done) {
    calls.fetch_add(1);
    completer.Post([done = std::move(done)] {
      absl::SleepFor(absl::Milliseconds(5));
      done(absl::OkStatus());
    });
  };
  const LoadResult r = RunClosedLoopCount(2, int64_t{1} << 40, absl::Milliseconds(200), call);
  EXPECT_GT(r.operations, 0);
  EXPECT_LT(calls.load(), 1000) << "it stopped at its time, not at its count";
  EXPECT_EQ(r.operations, calls.load());
}

TEST(CallAndWaitTest, ReturnsTheCallsStatusOnceItEnds) {
  ThreadPool completer("completer", kCompleters);
  std::atomic<bool> ended{false};
  const IndexedAsyncCall call = [&](int64_t index, std::function<void(absl::Status)> done) {
    completer.Post([&, index, done = std::move(done)] {
      absl::SleepFor(absl::Milliseconds(20));
      ended = true;
      done(index == 7 ? absl::NotFoundError("seven") : absl::OkStatus());
    });
  };
  EXPECT_TRUE(CallAndWait(call, 1).ok());
  EXPECT_TRUE(ended.load());
  EXPECT_TRUE(absl::IsNotFound(CallAndWait(call, 7)));
}

}  // namespace
}  // namespace kelola::bench
