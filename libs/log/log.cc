#include "libs/log/log.h"

#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace kelola::log {
namespace {

struct State {
  absl::Mutex mu;
  std::string service ABSL_GUARDED_BY(mu) = "kelola";
  Level min_level ABSL_GUARDED_BY(mu) = Level::kInfo;
};

State& GetState() {
  static State* state = new State();
  return *state;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void Init(absl::string_view service, Level min_level) {
  State& state = GetState();
  absl::MutexLock lock(&state.mu);
  state.service = std::string(service);
  state.min_level = min_level;
}

bool ParseLevel(absl::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatLine(absl::Time time, Level level, absl::string_view service,
                       absl::string_view message, const Fields& fields) {
  std::string line = absl::StrCat(
      "{\"ts\":", JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone())),
      ",\"level\":\"", LevelName(level), "\",\"service\":", JsonQuote(service),
      ",\"msg\":", JsonQuote(message));
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",", JsonQuote(key), ":", JsonQuote(value));
  }
  line += "}";
  return line;
}

void Write(Level level, absl::string_view message, const Fields& fields) {
  State& state = GetState();
  std::string line;
  {
    absl::MutexLock lock(&state.mu);
    if (level < state.min_level) return;
    line = FormatLine(absl::Now(), level, state.service, message, fields);
  }
  line += "\n";
  // One fwrite per line keeps lines whole when threads log at once.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kelola::log
