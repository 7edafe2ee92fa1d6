#pragma once

// The storage layer shared by every service: one small interface, two drivers
// (SQLite embedded, PostgreSQL through libpq). SQL is written once with `?`
// placeholders; the PostgreSQL driver rewrites them to `$1, $2, ...`.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kelola::db {

enum class Dialect { kSqlite, kPostgres };

// Binary data, distinct from text so that drivers can bind it as a blob/bytea.
struct Bytes {
  std::string data;
  bool operator==(const Bytes& other) const { return data == other.data; }
};

// A bound parameter or a result cell.
using Value = std::variant<std::monostate, int64_t, double, std::string, Bytes>;

inline Value Null() { return std::monostate{}; }

// Values bound in one IN (...) list: statements over many keys take them this many at a time.
inline constexpr size_t kValuesPerInList = 500;

// "?, ?, ?" for an IN (...) list of n values (n >= 1).
inline std::string Placeholders(size_t n) {
  std::string out;
  out.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) out.append(i == 0 ? "?" : ", ?");
  return out;
}

// " LIMIT n" with n >= rows, for a page that reads one row more than it shows: the limit is
// written into the statement rather than bound. PostgreSQL plans a prepared statement whose
// LIMIT is a parameter anew at every execution (a generic plan cannot know the limit, so it
// never looks cheaper than a custom one); with the limit in the text it keeps one plan per
// connection after five executions. Measured on customer lists: planning took about as long
// as running (docs/benchmarks.md). n is the smallest of 2, 11, 21, 51, 101, 201 and 501 that
// is at least `rows` (beyond: `rows` rounded up to a multiple of 500, plus one), so a
// statement has a handful of forms, whatever page sizes callers ask for, and the
// connection's cache of prepared statements does not fill up with them. The caller keeps
// the rows it wants of those returned.
inline std::string LimitAtLeast(int64_t rows) {
  constexpr int64_t kSteps[] = {2, 11, 21, 51, 101, 201, 501};
  int64_t limit = (rows + 498) / 500 * 500 + 1;  // the least 500k + 1 >= rows
  for (int64_t step : kSteps) {
    if (rows <= step) {
      limit = step;
      break;
    }
  }
  return " LIMIT " + std::to_string(limit);
}

// Rows per statement of InsertRows.
inline constexpr size_t kRowsPerInsert = 256;

// One row of a result. Columns are addressed by position, in SELECT order.
//
// Cell types: SQLite returns the stored type. PostgreSQL (text result format) returns
// int64 for int2/int4/int8, double for float4/float8, int64 0/1 for bool, Bytes for
// bytea and text for everything else (numeric, timestamps, ...). The getters convert
// between these where it makes sense (e.g. GetInt parses a text cell); NULL reads as
// 0 / "" / false.
class Row {
 public:
  explicit Row(std::vector<Value> cells) : cells_(std::move(cells)) {}

  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const;
  // Integer cell; text cells holding digits are parsed (PostgreSQL returns text).
  int64_t GetInt(size_t i) const;
  double GetDouble(size_t i) const;
  std::string GetText(size_t i) const;
  std::string GetBytes(size_t i) const;
  // 0/1 integers, and PostgreSQL's "t"/"f" text.
  bool GetBool(size_t i) const;
  std::optional<int64_t> GetOptionalInt(size_t i) const;
  std::optional<double> GetOptionalDouble(size_t i) const;
  std::optional<std::string> GetOptionalText(size_t i) const;
  std::optional<std::string> GetOptionalBytes(size_t i) const;
  // The raw cell. An index past the last column is a programming error and aborts.
  const Value& cell(size_t i) const;

 private:
  std::vector<Value> cells_;
};

using Rows = std::vector<Row>;

// Work inside one database transaction. Obtained only from Database::InTransaction.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Runs a statement that returns rows.
  virtual absl::StatusOr<Rows> Query(absl::string_view sql,
                                     const std::vector<Value>& params = {}) = 0;
  // Runs a statement and returns the number of rows it changed.
  virtual absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                          const std::vector<Value>& params = {}) = 0;
  // Runs a statement whose result the caller does not need. A driver may send it without
  // waiting for the database (PostgreSQL pipelines it, so that a run of such statements
  // costs one network round trip instead of one each); its error is then reported by the
  // next call of this transaction that waits (Query, Execute, ExecuteScript, Sync) or by
  // the commit, which fails. Use it only where any failure of the statement fails the
  // work it belongs to. SQLite runs it at once.
  virtual absl::Status ExecuteDeferred(absl::string_view sql,
                                       const std::vector<Value>& params = {}) {
    return Execute(sql, params).status();
  }
  // Waits for the deferred statements and returns the first error among them.
  virtual absl::Status Sync() { return absl::OkStatus(); }
  // Runs several `;`-separated statements without parameters (migration scripts). The
  // script must not contain BEGIN/COMMIT of its own.
  virtual absl::Status ExecuteScript(absl::string_view sql) = 0;
  // Convenience: the first row of a query, or NOT_FOUND when there is none.
  absl::StatusOr<Row> QueryOne(absl::string_view sql, const std::vector<Value>& params = {});

  virtual Dialect dialect() const = 0;

  // Registers a function to run after this transaction commits (not after a rollback or
  // a retried attempt). Used to wake event watchers once their events are visible.
  void AfterCommit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }
  std::vector<std::function<void()>> TakeAfterCommit() { return std::move(after_commit_); }

 private:
  std::vector<std::function<void()>> after_commit_;
};

struct TransactionOptions {
  // Read-only transactions may run concurrently with writers (SQLite WAL readers,
  // PostgreSQL READ ONLY).
  bool read_only = false;
  // PostgreSQL only: SERIALIZABLE instead of READ COMMITTED.
  bool serializable = false;
  // Read-only transactions only: a read that visits each page once (an export). On a SQLite
  // file it runs on one of `sqlite_bulk_readers` connections kept for such reads, whose page
  // cache is `sqlite_bulk_cache_mib`, so that a scan of the whole directory neither grows the
  // process by the readers' full caches nor evicts the pages interactive reads keep there.
  // PostgreSQL and SQLite in memory run it as any read. Without read_only: INVALID_ARGUMENT.
  bool bulk_read = false;
  // Write transactions only: one of a run of large writes (an import's batches). On a SQLite
  // file its commit leaves the log to be copied into the file after
  // `sqlite_bulk_wal_autocheckpoint_pages` rather than `sqlite_wal_autocheckpoint_pages`
  // (sqlite_checkpointer.h). PostgreSQL and SQLite in memory run it as any write. With
  // read_only: INVALID_ARGUMENT.
  bool bulk_write = false;
  // How many times a transaction that failed with a retryable conflict (SQLite BUSY,
  // PostgreSQL serialization failure or deadlock) is run again before giving up.
  int max_attempts = 8;
};

// The function passed to InTransaction. Returning a non-OK status rolls back.
using TransactionFn = std::function<absl::Status(Transaction&)>;

class Database {
 public:
  virtual ~Database() = default;

  // Runs `fn` in a transaction; commits when it returns OK. On a retryable conflict the
  // whole function is run again (so it must not have side effects outside the
  // transaction other than AfterCommit callbacks). Errors from the database are
  // returned as UNAVAILABLE (connection, no free connection within acquire_timeout),
  // ABORTED (conflict after all retries), ALREADY_EXISTS (unique violation, the message
  // names the constraint), FAILED_PRECONDITION (other integrity constraints: foreign
  // key, check, not null) or INTERNAL (bad SQL, wrong parameter count; the message holds
  // the database's text). A non-OK status returned by `fn` is passed through unchanged
  // after the rollback.
  //
  // Thread-safe. Do not call InTransaction from inside `fn` on the same Database: the
  // nested call needs a second connection (and, on SQLite, the write lock the outer
  // transaction holds), so it can block until acquire_timeout.
  virtual absl::Status InTransaction(const TransactionFn& fn,
                                     const TransactionOptions& options = {}) = 0;

  // Cheap liveness probe used by health checks.
  virtual absl::Status Ping() = 0;

  // Reclaims now, outside any transaction, the space of the rows deleted from `table` (a
  // plain table name). PostgreSQL keeps deleted rows until a vacuum, and every scan of the
  // table reads them: a queue table such as the outbox's staging table needs it more often
  // than autovacuum's naptime. `truncate` also gives empty pages at the end back to the
  // system (a moment's exclusive lock; leave it off while writers are busy). A vacuum
  // already running on the table makes this one skip (OK). SQLite removes deleted rows at
  // once: nothing to do there.
  virtual absl::Status Vacuum(absl::string_view table, bool truncate) {
    (void)table;
    (void)truncate;
    return absl::OkStatus();
  }

  // Says that a run of bulk writes (TransactionOptions.bulk_write) has ended. On a SQLite
  // file the log they left is copied now, on the checkpoint thread, rather than at the next
  // ordinary commit. Elsewhere nothing to do.
  virtual void BulkWritesEnded() {}

  virtual Dialect dialect() const = 0;
};

// Runs transaction functions for writers: the database itself (one transaction each) or a
// db::GroupCommitter (shared transactions). Writers take a runner, so that batching is a
// choice made where the service is wired, not in the writer's code.
class TransactionRunner {
 public:
  virtual ~TransactionRunner() = default;
  virtual absl::Status Run(const TransactionFn& fn) = 0;
};

// One transaction per function, straight on the database.
class DirectRunner final : public TransactionRunner {
 public:
  explicit DirectRunner(Database& db) : db_(db) {}
  absl::Status Run(const TransactionFn& fn) override { return db_.InTransaction(fn); }

 private:
  Database& db_;
};

struct DatabaseOptions {
  // Connections kept open (for SQLite files: reading connections, plus the one writer).
  // SQLite in-memory databases always use one connection.
  int pool_size = 8;
  // How long a caller waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // SQLite: how long a statement waits on a locked database before reporting BUSY.
  absl::Duration busy_timeout = absl::Seconds(5);
  // SQLite: PRAGMA synchronous value. FULL keeps every acknowledged commit across
  // process crashes and power loss.
  std::string sqlite_synchronous = "FULL";
  // SQLite: page cache per reading connection (PRAGMA cache_size), in MiB. SQLite's own
  // default (2 MiB) makes every index lookup of a large directory a read from the OS page
  // cache.
  int sqlite_cache_mib = 32;
  // SQLite: page cache of the one connection that runs write transactions (a file database
  // has one writer at a time anyway). Larger than the readers' so that the index pages
  // writes keep touching (bulk imports, group-committed batches) stay in memory between
  // transactions instead of being read back from the OS.
  int sqlite_writer_cache_mib = 256;
  // SQLite: connections kept for bulk reads (TransactionOptions.bulk_read) and the page cache
  // of each, in MiB. Small: a bulk read rarely comes back to a page it has read.
  int sqlite_bulk_readers = 2;
  int sqlite_bulk_cache_mib = 2;
  // SQLite: WAL pages after which the WAL is copied back into the database file, by a
  // thread of the database's own rather than inside the committing write
  // (sqlite_checkpointer.h); 0 = never (PRAGMA wal_autocheckpoint=0). Larger than SQLite's
  // default (1000), so that index pages every write touches are copied once per checkpoint
  // rather than many times.
  int sqlite_wal_autocheckpoint_pages = 10000;
  // SQLite: the same for the commits of bulk writes (TransactionOptions.bulk_write); 0 (or
  // less than sqlite_wal_autocheckpoint_pages) = the same threshold as any commit. During
  // bulk writes the log grows past this many pages (by what is committed while it is
  // copied), and its file is then cut back to twice sqlite_wal_autocheckpoint_pages.
  int sqlite_bulk_wal_autocheckpoint_pages = 0;
  // PostgreSQL: timeout for establishing a connection.
  absl::Duration connect_timeout = absl::Seconds(5);
};

// Inserts many rows with multi-row statements: `head` ("INSERT INTO t (a, b)"), then
// " VALUES (?, ?), (?, ?) …", then `tail` (e.g. " ON CONFLICT … DO NOTHING"). `values` holds
// the rows one after another, `columns` values each. The statements are deferred
// (Transaction::ExecuteDeferred) and hold at most kRowsPerInsert rows, in counts that are
// powers of two, so that a few statements, kept prepared by the drivers, serve any number
// of rows. Rows go in the order given. No rows: nothing is sent.
absl::Status InsertRows(Transaction& tx, absl::string_view head, size_t columns,
                        std::vector<Value> values, absl::string_view tail = "");

// A conflict between concurrent transactions (SQLite BUSY/LOCKED, PostgreSQL serialization
// failure or deadlock): ABORTED, marked so that it can be told apart from a caller's own
// ABORTED (e.g. a stale etag). InTransaction retries these by itself; code that catches
// statement errors (savepoints) must pass them on.
absl::Status ConflictError(absl::string_view message);
bool IsConflict(const absl::Status& status);

// Opens a database from a URL:
//   sqlite:PATH            a file (created if missing), WAL mode
//   sqlite::memory:        a private in-memory database (tests)
//   postgres://... or postgresql://...   a libpq connection URI
// A malformed URL is INVALID_ARGUMENT; an unreachable server is UNAVAILABLE.
absl::StatusOr<std::unique_ptr<Database>> Open(absl::string_view url,
                                               const DatabaseOptions& options = {});

}  // namespace kelola::db
