#include "bench/harness/closed_loop.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace kelola::bench {
namespace {

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
    LoadResult result;
    result.clients = outstanding;
    result.elapsed = stop_ - measure_from_;
    for (const auto& slot : samples_) recorder_.Merge(slot);
    result.latency = recorder_.Summarize();
    result.operations = result.latency.count;
    result.errors = errors_.load();
    absl::MutexLock lock(&mu_);
    result.first_error = first_error_;
    result.per_second = result.operations / absl::ToDoubleSeconds(result.elapsed);
    return result;
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
  LatencyRecorder recorder_;
  std::atomic<int64_t> errors_{0};
  absl::Mutex mu_;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

LoadResult RunClosedLoop(const ClosedLoopOptions& options, const AsyncCall& call) {
  Loop loop(options, call);
  return loop.Run(options.outstanding);
}

}  // namespace kelola::bench
