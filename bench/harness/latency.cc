#include "bench/harness/latency.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"

namespace kelola::bench {
namespace {

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

double Percentile(const std::vector<absl::Duration>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * (sorted.size() - 1)));
  return Ms(sorted[index]);
}

}  // namespace

void LatencyRecorder::Add(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  samples_.push_back(d);
}

void LatencyRecorder::Merge(const std::vector<absl::Duration>& ds) {
  absl::MutexLock lock(&mu_);
  samples_.insert(samples_.end(), ds.begin(), ds.end());
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

LatencySummary LatencyRecorder::Summarize() const {
  std::vector<absl::Duration> sorted;
  {
    absl::MutexLock lock(&mu_);
    sorted = samples_;
  }
  std::sort(sorted.begin(), sorted.end());
  LatencySummary out;
  out.count = static_cast<int64_t>(sorted.size());
  if (sorted.empty()) return out;
  absl::Duration total;
  for (auto d : sorted) total += d;
  out.p50_ms = Percentile(sorted, 0.50);
  out.p90_ms = Percentile(sorted, 0.90);
  out.p99_ms = Percentile(sorted, 0.99);
  out.max_ms = Ms(sorted.back());
  out.mean_ms = Ms(total) / sorted.size();
  return out;
}

LoadResult RunClients(int clients, int64_t total_operations, absl::Duration max_duration,
                      const std::function<absl::Status(int client, int64_t index)>& op) {
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> errors{0};
  absl::Mutex error_mu;
  std::string first_error;
  LatencyRecorder recorder;
  const absl::Time start = absl::Now();
  const absl::Time stop = start + max_duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::vector<absl::Duration> local;
      while (absl::Now() < stop) {
        const int64_t index = next.fetch_add(1);
        if (index >= total_operations) break;
        const absl::Time begin = absl::Now();
        absl::Status status = op(c, index);
        // Only successful operations count toward throughput and latency.
        if (status.ok()) local.push_back(absl::Now() - begin);
        if (!status.ok()) {
          if (errors.fetch_add(1) == 0) {
            absl::MutexLock lock(&error_mu);
            first_error = status.ToString();
          }
        }
      }
      recorder.Merge(local);
    });
  }
  for (auto& t : threads) t.join();
  LoadResult result;
  result.clients = clients;
  result.elapsed = absl::Now() - start;
  result.latency = recorder.Summarize();
  result.operations = result.latency.count;
  result.errors = errors.load();
  result.first_error = first_error;
  result.per_second = result.operations / absl::ToDoubleSeconds(result.elapsed);
  return result;
}

}  // namespace kelola::bench
