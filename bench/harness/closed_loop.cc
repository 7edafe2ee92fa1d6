#include "bench/harness/closed_loop.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace kelola::bench {
namespace {

// A loop's result from its slots' latencies (one slot per call in flight).
LoadResult Collect(const std::vector<std::vector<absl::Duration>>& samples, absl::Duration elapsed,
                   int64_t errors, const std::string& first_error) {
  LatencyRecorder recorder;
  for (const auto& slot : samples) recorder.Merge(slot);
  LoadResult result;
  result.clients = static_cast<int>(samples.size());
  result.elapsed = elapsed;
  result.latency = recorder.Summarize();
  result.operations = result.latency.count;
  result.errors = errors;
  result.first_error = first_error;
  result.per_second = result.operations / absl::ToDoubleSeconds(elapsed);
  return result;
}

class Loop {
 public:
  Loop(const ClosedLoopOptions& options, const AsyncCall& call)
      : call_(call),
        measure_from_(absl::Now() + options.warmup),
        stop_(measure_from_ + options.duration),
        samples_(options.outstanding),
        idle_(options.outstanding) {}

  LoadResult Run(int outstanding) {
    for (int slot = 0; slot < outstanding; ++slot) Issue(slot);
    idle_.Wait();
    absl::MutexLock lock(&mu_);
    return Collect(samples_, stop_ - measure_from_, errors_.load(), first_error_);
  }

 private:
  // Each slot has one call in flight at a time, so its samples need no lock.
  void Issue(int slot) {
    const absl::Time begin = absl::Now();
    call_([this, slot, begin](absl::Status status) {
      const absl::Time end = absl::Now();
      if (!status.ok()) {
        if (errors_.fetch_add(1) == 0) {
          absl::MutexLock lock(&mu_);
          first_error_ = status.ToString();
        }
      } else if (begin >= measure_from_ && end <= stop_) {
        samples_[slot].push_back(end - begin);
      }
      if (end < stop_) {
        Issue(slot);
      } else {
        idle_.DecrementCount();
      }
    });
  }

  const AsyncCall& call_;
  const absl::Time measure_from_;
  const absl::Time stop_;
  std::vector<std::vector<absl::Duration>> samples_;
  absl::BlockingCounter idle_;
  std::atomic<int64_t> errors_{0};
  absl::Mutex mu_;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// The loop of RunClosedLoopCount: each slot starts the next call when its own ends.
class CountLoop {
 public:
  CountLoop(int outstanding, int64_t total, absl::Duration max_duration,
            const IndexedAsyncCall& call)
      : call_(call),
        total_(total),
        start_(absl::Now()),
        stop_(start_ + max_duration),
        samples_(outstanding),
        idle_(outstanding) {}

  LoadResult Run() {
    for (size_t slot = 0; slot < samples_.size(); ++slot) Issue(slot);
    idle_.Wait();
    absl::MutexLock lock(&mu_);
    return Collect(samples_, absl::Now() - start_, errors_.load(), first_error_);
  }

 private:
  void Issue(size_t slot) {
    const int64_t index = next_.fetch_add(1);
    if (index >= total_ || absl::Now() >= stop_) {
      idle_.DecrementCount();
      return;
    }
    const absl::Time begin = absl::Now();
    call_(index, [this, slot, begin](absl::Status status) {
      if (status.ok()) {
        samples_[slot].push_back(absl::Now() - begin);
      } else if (errors_.fetch_add(1) == 0) {
        absl::MutexLock lock(&mu_);
        first_error_ = status.ToString();
      }
      Issue(slot);
    });
  }

  const IndexedAsyncCall& call_;
  const int64_t total_;
  const absl::Time start_;
  const absl::Time stop_;
  std::atomic<int64_t> next_{0};
  std::vector<std::vector<absl::Duration>> samples_;  // a slot's own: no lock
  absl::BlockingCounter idle_;
  std::atomic<int64_t> errors_{0};
  absl::Mutex mu_;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

LoadResult RunClosedLoop(const ClosedLoopOptions& options, const AsyncCall& call) {
  Loop loop(options, call);
  return loop.Run(options.outstanding);
}

LoadResult RunClosedLoopCount(int outstanding, int64_t total, absl::Duration max_duration,
                              const IndexedAsyncCall& call) {
  CountLoop loop(outstanding, total, max_duration, call);
  return loop.Run();
}

absl::Status CallAndWait(const IndexedAsyncCall& call, int64_t index) {
  absl::Notification finished;
  absl::Status result;
  call(index, [&](absl::Status status) {
    result = std::move(status);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

}  // namespace kelola::bench
