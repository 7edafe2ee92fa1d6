#include "gateway/cache/fill_gate.h"

#include "absl/status/status.h"

namespace kelola::gateway {

FillGate::Outcome FillGate::Do(absl::string_view key, absl::Time deadline, Fetch fetch) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = flights_.try_emplace(key);
    if (inserted) it->second = std::make_shared<Flight>();
    flight = it->second;
    leader = inserted;
  }
  if (!leader) {
    Flight& f = *flight;
    if (!f.mu.LockWhenWithDeadline(absl::Condition(&f.done), deadline)) {
      f.mu.Unlock();
      return {absl::DeadlineExceededError("waiting for another request's card fetch"), false};
    }
    Outcome outcome{f.result, false};
    f.mu.Unlock();
    return outcome;
  }

  absl::StatusOr<CachedCard> result = fetch();
  {
    absl::MutexLock lock(&flight->mu);
    flight->result = result;
    flight->done = true;
  }
  // Published before the key is released: a request arriving in between gets this result
  // rather than starting a second fetch.
  {
    absl::MutexLock lock(&mu_);
    flights_.erase(key);
  }
  return {std::move(result), true};
}

size_t FillGate::in_flight() const {
  absl::MutexLock lock(&mu_);
  return flights_.size();
}

}  // namespace kelola::gateway
