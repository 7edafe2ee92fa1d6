#pragma once

// Latency and throughput measurement for the benchmarks: a recorder of durations and a
// runner of N concurrent clients. Figures are medians and tails of real runs, not
// assertions: the benchmarks report, they do not pass or fail on speed.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kelola::bench {

struct LatencySummary {
  int64_t count = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

// Thread-safe collection of durations.
class LatencyRecorder {
 public:
  void Add(absl::Duration d);
  void Merge(const std::vector<absl::Duration>& ds);
  LatencySummary Summarize() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<absl::Duration> samples_ ABSL_GUARDED_BY(mu_);
};

struct LoadResult {
  int clients = 0;
  int64_t operations = 0;  // successful ones; errors are counted apart
  int64_t errors = 0;
  std::string first_error;
  absl::Duration elapsed;
  double per_second = 0;
  LatencySummary latency;
};

// The median of `values` (the mean of the middle two for an even count); 0 for none. The
// benchmarks repeat their measurements in rounds on this shared machine and quote medians.
double Median(std::vector<double> values);

// Runs `op(client, index)` from `clients` threads until `total_operations` have been
// issued in all (each client takes the next index) or `max_duration` has passed.
LoadResult RunClients(int clients, int64_t total_operations, absl::Duration max_duration,
                      const std::function<absl::Status(int client, int64_t index)>& op);

}  // namespace kelola::bench
