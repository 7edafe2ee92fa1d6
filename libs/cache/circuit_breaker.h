#pragma once

// A circuit breaker for a dependency that may go away (Redis). After `failure_threshold`
// consecutive failures it opens: callers are refused at once for `cool_down`, then one probe
// call is let through; its success closes the breaker, its failure re-opens it for another
// cool-down. Thread-safe; while closed, Allow() and RecordSuccess() are one atomic load each.

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"

namespace kelola::cache {

struct CircuitBreakerOptions {
  int failure_threshold = 3;
  absl::Duration cool_down = absl::Seconds(1);
};

class CircuitBreaker {
 public:
  CircuitBreaker(CircuitBreakerOptions options, const Clock& clock)
      : options_(options), clock_(clock) {}
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  enum class Admission { kRefused, kAllowed, kProbe };
  // Whether a call may go ahead; the caller then reports its outcome. kRefused (counted as
  // bypassed) while open, except for the single probe after each cool-down.
  Admission Allow();
  // Counts a call its caller dropped after kAllowed because the breaker opened meanwhile.
  void RecordBypass() { bypassed_.fetch_add(1, std::memory_order_relaxed); }
  // The dependency answered (even with an error reply).
  void RecordSuccess();
  // A connection failure or timeout.
  void RecordFailure();

  // True from the opening until a successful call, probing included.
  bool open() const { return open_.load(std::memory_order_acquire); }
  // Calls refused while open, since construction.
  int64_t bypassed() const { return bypassed_.load(std::memory_order_relaxed); }

 private:
  const CircuitBreakerOptions options_;
  const Clock& clock_;
  std::atomic<bool> open_{false};
  std::atomic<int> failures_{0};  // written under mu_
  std::atomic<int64_t> bypassed_{0};
  absl::Mutex mu_;
  absl::Time probe_at_ ABSL_GUARDED_BY(mu_);
  bool probing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kelola::cache
