#pragma once

// Configuration: every setting is a command-line flag `--name` and an environment
// variable `KELOLA_NAME` (upper case). A secret can be read from a file named by
// `KELOLA_NAME_FILE`. The command line wins over the environment. An invalid value stops
// the process at start with one line that names the setting.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::config {

// Looks up an environment variable; nullptr when unset. Injected for tests.
using EnvLookup = std::function<const char*(const char*)>;

// The environment variable that configures `flag_name`: "db" -> "KELOLA_DB".
std::string EnvName(absl::string_view flag_name);

// Applies the environment to every flag of this binary (flags defined by Abseil itself
// are left alone). INVALID_ARGUMENT names the variable and the reason.
absl::Status ApplyEnvironment(const EnvLookup& lookup);

// ApplyEnvironment(getenv) then absl::ParseCommandLine. Exits with status 2 on any
// invalid value. Returns the positional arguments.
std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage);

// Prints "<program>: <setting>: <message>" on one line and exits with status 2.
[[noreturn]] void Die(absl::string_view setting, const absl::Status& status);

struct HostPort {
  std::string host;  // "127.0.0.1", "0.0.0.0", "[::1]", "localhost"
  int port = 0;      // 0 = pick a free port
  std::string ToString() const;
};

// "HOST:PORT" with PORT in 0..65535. INVALID_ARGUMENT otherwise.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

}  // namespace kelola::config
