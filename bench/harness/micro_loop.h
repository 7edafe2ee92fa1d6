#pragma once

// The cost of one in-process call (a verification, a lookup), timed in batches so that
// reading the clock does not dominate calls that take well under a microsecond.

#include <cstdint>
#include <functional>

namespace kelola::bench {

struct CallCost {
  int64_t calls = 0;
  double per_second = 0;  // on one thread
  double p50_us = 0;      // per call, over the batches
  double p99_us = 0;
};

// Runs `call(i)` `batches` times `batch` times (i = 0, 1, ...), after `batch` warm-up calls.
CallCost TimeCalls(int batches, int batch, const std::function<void(int64_t i)>& call);

}  // namespace kelola::bench
