#pragma once

// Ports for servers started by tests.

#include "absl/status/statusor.h"

namespace kelola::testing {

// A TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the port the
// kernel chose, and closes the socket. Another process may take it before the caller
// binds it; servers started by the harness retry with a new port when that happens.
absl::StatusOr<int> PickFreePort();

}  // namespace kelola::testing
