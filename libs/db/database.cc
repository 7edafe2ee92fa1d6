#include "libs/db/database.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "libs/db/driver.h"
#include "libs/db/postgres_database.h"
#include "libs/db/sqlite_database.h"

namespace kelola::db {

// ---------------------------------------------------------------------------------
// Row

const Value& Row::cell(size_t i) const {
  if (i >= cells_.size()) {
    std::fprintf(stderr, "kelola::db::Row: column %zu requested from a row of %zu columns\n", i,
                 cells_.size());
    std::abort();
  }
  return cells_[i];
}

bool Row::IsNull(size_t i) const { return std::holds_alternative<std::monostate>(cell(i)); }

int64_t Row::GetInt(size_t i) const {
  const Value& v = cell(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    if (absl::SimpleAtoi(*s, &n)) return n;
    if (*s == "t" || *s == "true") return 1;
    double d = 0;
    if (absl::SimpleAtod(*s, &d)) return static_cast<int64_t>(d);
  }
  return 0;
}

double Row::GetDouble(size_t i) const {
  const Value& v = cell(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double d = 0;
    if (absl::SimpleAtod(*s, &d)) return d;
  }
  return 0;
}

std::string Row::GetText(size_t i) const {
  const Value& v = cell(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<int64_t>(&v)) return absl::StrCat(*n);
  if (const auto* d = std::get_if<double>(&v)) return absl::StrFormat("%.17g", *d);
  if (const auto* b = std::get_if<Bytes>(&v)) return b->data;
  return "";
}

std::string Row::GetBytes(size_t i) const {
  const Value& v = cell(i);
  if (const auto* b = std::get_if<Bytes>(&v)) return b->data;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

bool Row::GetBool(size_t i) const {
  const Value& v = cell(i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    return *s == "t" || *s == "true" || *s == "1";
  }
  return GetInt(i) != 0;
}

std::optional<int64_t> Row::GetOptionalInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return GetInt(i);
}

std::optional<double> Row::GetOptionalDouble(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return GetDouble(i);
}

std::optional<std::string> Row::GetOptionalText(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return GetText(i);
}

std::optional<std::string> Row::GetOptionalBytes(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return GetBytes(i);
}

// ---------------------------------------------------------------------------------
// Transaction

absl::StatusOr<Row> Transaction::QueryOne(absl::string_view sql, const std::vector<Value>& params) {
  absl::StatusOr<Rows> rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError("query returned no row");
  return std::move(rows->front());
}

absl::Status InsertRows(Transaction& tx, absl::string_view head, size_t columns,
                        std::vector<Value> values, absl::string_view tail) {
  if (columns == 0 || values.size() % columns != 0) {
    return absl::InternalError(absl::StrCat("InsertRows: ", values.size(),
                                            " values are not rows of ", columns, " columns"));
  }
  const std::string row = absl::StrCat("(", Placeholders(columns), ")");
  size_t done = 0;
  for (size_t left = values.size() / columns; left > 0;) {
    size_t n = kRowsPerInsert;
    while (n > left) n /= 2;
    std::string sql(head.data(), head.size());
    sql.reserve(head.size() + 8 + n * (row.size() + 2) + tail.size());
    sql.append(" VALUES ");
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) sql.append(", ");
      sql.append(row);
    }
    sql.append(tail.data(), tail.size());
    const auto first = values.begin() + static_cast<std::ptrdiff_t>(done * columns);
    std::vector<Value> params(
        std::make_move_iterator(first),
        std::make_move_iterator(first + static_cast<std::ptrdiff_t>(n * columns)));
    if (absl::Status s = tx.ExecuteDeferred(sql, params); !s.ok()) return s;
    done += n;
    left -= n;
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------
// Open

absl::StatusOr<std::unique_ptr<Database>> Open(absl::string_view url,
                                               const DatabaseOptions& options) {
  if (absl::Status s = internal::ValidateOptions(options); !s.ok()) return s;
  if (url.empty()) {
    return absl::InvalidArgumentError(
        "empty database URL; expected sqlite:PATH, sqlite::memory: or postgres://...");
  }
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "sqlite:")) {
    // Accept sqlite:PATH, sqlite://PATH (relative) and sqlite:///abs/path.
    absl::ConsumePrefix(&rest, "//");
    if (rest.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "database URL \"", url, "\" has an empty path; use sqlite:PATH or sqlite::memory:"));
    }
    return OpenSqlite(rest, options);
  }
  if (absl::StartsWith(url, "postgres://") || absl::StartsWith(url, "postgresql://")) {
    return OpenPostgres(url, options);
  }
  const size_t colon = url.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("database URL \"", internal::RedactUrl(url),
                     "\" has no scheme; expected sqlite:PATH, sqlite::memory: or postgres://..."));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("database URL \"", internal::RedactUrl(url), "\" has unknown scheme \"",
                   url.substr(0, colon), "\"; expected sqlite:, postgres:// or postgresql://"));
}

namespace internal {

absl::Status ValidateOptions(const DatabaseOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DatabaseOptions.pool_size must be at least 1, got ", options.pool_size));
  }
  if (options.acquire_timeout < absl::ZeroDuration() ||
      options.busy_timeout < absl::ZeroDuration() ||
      options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("DatabaseOptions timeouts must be positive");
  }
  if (options.sqlite_cache_mib < 1 || options.sqlite_writer_cache_mib < 1 ||
      options.sqlite_bulk_cache_mib < 1 || options.sqlite_bulk_readers < 1) {
    return absl::InvalidArgumentError(
        "DatabaseOptions.sqlite_cache_mib, sqlite_writer_cache_mib, sqlite_bulk_cache_mib and "
        "sqlite_bulk_readers must be at least 1");
  }
  const std::string sync = absl::AsciiStrToUpper(options.sqlite_synchronous);
  if (sync != "OFF" && sync != "NORMAL" && sync != "FULL" && sync != "EXTRA") {
    return absl::InvalidArgumentError(absl::StrCat(
        "DatabaseOptions.sqlite_synchronous must be OFF, NORMAL, FULL or EXTRA, got \"",
        options.sqlite_synchronous, "\""));
  }
  return absl::OkStatus();
}

std::string RedactUrl(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return std::string(url);
  const size_t start = scheme_end + 3;
  const size_t at = url.find('@', start);
  if (at == absl::string_view::npos) return std::string(url);
  const size_t colon = url.find(':', start);
  if (colon == absl::string_view::npos || colon > at) return std::string(url);
  return absl::StrCat(url.substr(0, colon + 1), "***", url.substr(at));
}

std::string SqlForMessage(absl::string_view sql) {
  std::string out(absl::StripAsciiWhitespace(sql));
  constexpr size_t kMax = 240;
  if (out.size() > kMax) {
    out.resize(kMax);
    out += "...";
  }
  return out;
}

absl::Status RunWithRetries(const TransactionOptions& options,
                            absl::FunctionRef<AttemptResult()> attempt) {
  if (options.bulk_read && !options.read_only) {
    return absl::InvalidArgumentError("TransactionOptions.bulk_read needs read_only");
  }
  if (options.bulk_write && options.read_only) {
    return absl::InvalidArgumentError("TransactionOptions.bulk_write is for write transactions");
  }
  thread_local absl::InsecureBitGen gen;
  const int max_attempts = std::max(1, options.max_attempts);
  absl::Status last;
  for (int i = 1; i <= max_attempts; ++i) {
    AttemptResult result = attempt();
    if (result.status.ok()) {
      for (auto& fn : result.after_commit) fn();
      return absl::OkStatus();
    }
    if (!result.retryable) return result.status;
    last = std::move(result.status);
    if (i < max_attempts) {
      // Full jitter over a window that doubles from 1 ms up to 64 ms.
      const int64_t window_us = int64_t{1000} << std::min(i - 1, 6);
      absl::SleepFor(absl::Microseconds(absl::Uniform<int64_t>(gen, window_us / 4, window_us)));
    }
  }
  return absl::AbortedError(absl::StrCat("transaction gave up after ", max_attempts,
                                         " attempts on conflicts; last error: ", last.message()));
}

}  // namespace internal
namespace {
constexpr char kConflictPayload[] = "kelola.db/conflict";
}  // namespace

absl::Status ConflictError(absl::string_view message) {
  absl::Status status = absl::AbortedError(message);
  status.SetPayload(kConflictPayload, absl::Cord("1"));
  return status;
}

bool IsConflict(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         status.GetPayload(kConflictPayload).has_value();
}

}  // namespace kelola::db
