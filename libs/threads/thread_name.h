#pragma once

// Threads named for what they do. The threads a service starts of its own (the
// checkpointer, an import's batch writer, an event stream's reader...) are started here, so
// that `top -H`, `ps -L`, `/proc/PID/task/*/comm`, perf and gdb say which part of the service
// a thread is; gRPC's own threads keep gRPC's names.

#include <cstddef>
#include <functional>
#include <string>
#include <thread>

namespace kelola::threads {

// Linux keeps this many bytes of a thread's name; longer names are cut to it.
inline constexpr size_t kMaxNameBytes = 15;

// Starts a thread that names itself `name` (cut to kMaxNameBytes) and runs `body`.
std::thread Start(std::string name, std::function<void()> body);

// The calling thread's name ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace kelola::threads
