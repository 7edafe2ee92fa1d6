#include "bench/harness/micro_loop.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kelola::bench {

CallCost TimeCalls(int batches, int batch, const std::function<void(int64_t i)>& call) {
  int64_t i = 0;
  for (int k = 0; k < batch; ++k) call(i++);
  std::vector<double> per_call_us;
  per_call_us.reserve(batches);
  absl::Duration total;
  for (int b = 0; b < batches; ++b) {
    const absl::Time begin = absl::Now();
    for (int k = 0; k < batch; ++k) call(i++);
    const absl::Duration took = absl::Now() - begin;
    total += took;
    per_call_us.push_back(absl::ToDoubleMicroseconds(took) / batch);
  }
  std::sort(per_call_us.begin(), per_call_us.end());
  CallCost cost;
  cost.calls = int64_t{batches} * batch;
  if (per_call_us.empty()) return cost;
  cost.per_second = cost.calls / std::max(1e-9, absl::ToDoubleSeconds(total));
  cost.p50_us = per_call_us[per_call_us.size() / 2];
  cost.p99_us = per_call_us[std::min(per_call_us.size() - 1, per_call_us.size() * 99 / 100)];
  return cost;
}

}  // namespace kelola::bench
