#pragma once

// Structured logs: one JSON object per line on stderr, with time (UTC), level,
// service, message and any fields (request_id and tenant by convention).

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kelola::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Fields = std::vector<std::pair<std::string, std::string>>;

// Sets the service name written on every line and the lowest level written.
void Init(absl::string_view service, Level min_level = Level::kInfo);
// Parses "debug", "info", "warn", "error"; false for anything else.
bool ParseLevel(absl::string_view text, Level* level);

void Write(Level level, absl::string_view message, const Fields& fields = {});
inline void Debug(absl::string_view m, const Fields& f = {}) { Write(Level::kDebug, m, f); }
inline void Info(absl::string_view m, const Fields& f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(absl::string_view m, const Fields& f = {}) { Write(Level::kWarn, m, f); }
inline void Error(absl::string_view m, const Fields& f = {}) { Write(Level::kError, m, f); }

// The line Write() prints, without the trailing newline. Exposed for tests.
std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message, const Fields& fields);

// JSON string escaping (quotes included), shared with other JSON writers.
std::string JsonQuote(absl::string_view text);

}  // namespace kelola::log
