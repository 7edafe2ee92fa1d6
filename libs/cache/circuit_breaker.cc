#include "libs/cache/circuit_breaker.h"

namespace kelola::cache {

CircuitBreaker::Admission CircuitBreaker::Allow() {
  if (!open_.load(std::memory_order_acquire)) return Admission::kAllowed;
  absl::MutexLock lock(&mu_);
  if (!open_.load(std::memory_order_relaxed)) return Admission::kAllowed;
  if (probing_ || clock_.Now() < probe_at_) {
    RecordBypass();
    return Admission::kRefused;
  }
  // The cool-down is over: this caller is the probe; everyone else keeps being refused
  // until it reports.
  probing_ = true;
  return Admission::kProbe;
}

void CircuitBreaker::RecordSuccess() {
  if (failures_.load(std::memory_order_relaxed) == 0 && !open_.load(std::memory_order_acquire)) {
    return;
  }
  absl::MutexLock lock(&mu_);
  failures_.store(0, std::memory_order_relaxed);
  probing_ = false;
  open_.store(false, std::memory_order_release);
}

void CircuitBreaker::RecordFailure() {
  absl::MutexLock lock(&mu_);
  const int failures = failures_.load(std::memory_order_relaxed) + 1;
  failures_.store(failures, std::memory_order_relaxed);
  if (failures < options_.failure_threshold && !open_.load(std::memory_order_relaxed)) return;
  // Opens, or re-opens after a failed probe (or a late failure of a call that started
  // before the opening: another cool-down does no harm).
  probe_at_ = clock_.Now() + options_.cool_down;
  probing_ = false;
  open_.store(true, std::memory_order_release);
}

}  // namespace kelola::cache
