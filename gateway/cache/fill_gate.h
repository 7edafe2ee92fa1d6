#pragma once

// Single flight for cache fills: at most one fetch per key runs at a time in this process.
// When many requests miss the same card at once (a hot customer, or the cache just
// restarted), the first runs the fetch and the others wait for its result instead of all
// asking report-svc.
//
// Errors are shared too: if the leader's fetch fails, its waiters get the same status (they
// would most likely have failed the same way, and retrying at once would add load to a
// backend that is already failing). A waiter gives up at its deadline with
// DEADLINE_EXCEEDED; the leader's fetch carries on for the others.

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kelola::gateway {

// A card as cached: the serialized kelola.report.v1.SummaryCard and the ledger version it
// reflects (its ledger_version field, kept apart so Redis can compare it without parsing).
struct CachedCard {
  std::string bytes;
  int64_t ledger_version = 0;
};

class FillGate {
 public:
  using Fetch = absl::FunctionRef<absl::StatusOr<CachedCard>()>;

  struct Outcome {
    absl::StatusOr<CachedCard> result;
    // True when this caller ran the fetch; false when it got another caller's result.
    bool led = false;
  };

  FillGate() = default;
  FillGate(const FillGate&) = delete;
  FillGate& operator=(const FillGate&) = delete;

  // Runs `fetch` in the calling thread unless a fetch for `key` is already running; then
  // waits for that one's result until `deadline`.
  Outcome Do(absl::string_view key, absl::Time deadline, Fetch fetch);

  // Keys with a fetch running (for tests and a gauge).
  size_t in_flight() const;

 private:
  struct Flight {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<CachedCard> result ABSL_GUARDED_BY(mu);
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Flight>> flights_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::gateway
