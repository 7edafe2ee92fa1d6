#pragma once

// A closed-loop load generator on gRPC's callback API: `outstanding` calls are kept in
// flight, each slot starting its next call from the completion of the previous one. Unlike
// RunClients (latency.h), no thread waits on a call, so on a small machine the client
// itself is not what limits the rate it measures.

#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bench/harness/latency.h"

namespace kelola::bench {

// Starts one asynchronous call and returns; `done` must then be called exactly once, from
// any thread, with the call's outcome.
using AsyncCall = std::function<void(std::function<void(absl::Status)> done)>;

struct ClosedLoopOptions {
  int outstanding = 64;
  absl::Duration warmup = absl::Seconds(2);     // calls ending before it are not counted
  absl::Duration duration = absl::Seconds(10);  // the measured window after the warm-up
};

// Runs the loop for warmup + duration, then waits for the calls still in flight. Counts the
// calls that started and ended inside the measured window; errors are counted apart.
LoadResult RunClosedLoop(const ClosedLoopOptions& options, const AsyncCall& call);

}  // namespace kelola::bench
