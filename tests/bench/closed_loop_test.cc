// The closed loop over a fixed number of calls (bench/harness/closed_loop.h): every index
// started once, never more calls in flight than asked, errors counted apart, and the
// blocking form for thread clients.
#include "bench/harness/closed_loop.h"

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kelola::bench {
namespace {

// Completes calls on threads of its own, as gRPC's callback threads would: never on the
// caller's stack, and several at once.
class Completer {
 public:
  Completer() {
    for (int i = 0; i < 3; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Completer() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }
  void Post(std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); }
  void Run() {
    while (true) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &Completer::Ready));
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

TEST(RunClosedLoopCountTest, StartsEveryIndexOnceWithAtMostTheCallsInFlight) {
  Completer completer;
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
  Completer completer;
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
  Completer completer;
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
