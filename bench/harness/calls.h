#pragma once

// The client side of a benchmark call (a context for a tenant with a deadline) and the
// memory of the process measured.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace kelola::bench {

// A context carrying x-kelola-tenant, the principal "bench" and a deadline `timeout` away.
std::unique_ptr<grpc::ClientContext> BenchContext(const std::string& tenant,
                                                  absl::Duration timeout = absl::Seconds(30));

// Peak and current resident set of a process, in KiB (VmHWM, VmRSS of /proc/PID/status).
struct ProcessMemory {
  int64_t peak_kib = 0;
  int64_t resident_kib = 0;
};
ProcessMemory MemoryOf(pid_t pid);
// Resets the process's peak resident set (VmHWM) to its current one (Linux clear_refs), so a
// later MemoryOf(pid).peak_kib measures one phase only; false where that is refused.
bool ResetPeakMemory(pid_t pid);

}  // namespace kelola::bench
