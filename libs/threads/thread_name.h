#pragma once

// Names of the threads a service starts itself (the checkpointer, an import's batch
// writer, an event stream's reader...), as `top -H`, `ps -L`, `/proc/PID/task/*/comm`, perf
// and gdb show them. Each such thread names itself first, so that a profile or a stuck
// process says which part of the service a thread is; gRPC's own threads keep gRPC's names.

#include <cstddef>
#include <string>
#include <string_view>

namespace kelola::threads {

// Linux keeps this many bytes of a thread's name; longer names are cut to it.
inline constexpr size_t kMaxNameBytes = 15;

// Names the calling thread `name`, cut to kMaxNameBytes.
void NameThisThread(std::string_view name);

// The calling thread's name ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace kelola::threads
