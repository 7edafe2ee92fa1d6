#include "libs/db/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/db/driver.h"
#include "libs/db/sqlite_checkpointer.h"
#include "libs/db/sqlite_log_buffer.h"

namespace kelola::db {
namespace {

using internal::AttemptResult;

// Statements kept prepared per connection; SQL beyond this is prepared per use.
constexpr size_t kMaxCachedStatements = 512;

bool IsRetryable(int extended_code) {
  const int primary = extended_code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Maps an SQLite result code to a status. Sets *retryable for BUSY/LOCKED.
absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view sql, bool* retryable) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (IsRetryable(rc) || IsRetryable(code)) {
    if (retryable != nullptr) *retryable = true;
    return ConflictError(absl::StrCat("sqlite: ", msg));
  }
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::AlreadyExistsError(absl::StrCat("sqlite: ", msg));
    default:
      break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::FailedPreconditionError(absl::StrCat("sqlite: ", msg));
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_READONLY:
      return absl::UnavailableError(absl::StrCat("sqlite: ", msg));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat("sqlite: ", msg));
    default:
      break;
  }
  if (sql.empty()) return absl::InternalError(absl::StrCat("sqlite: ", msg));
  return absl::InternalError(
      absl::StrCat("sqlite: ", msg, " (in: ", internal::SqlForMessage(sql), ")"));
}

// SQLite names the columns of a violated unique constraint ("UNIQUE constraint failed:
// customers.tenant_id, customers.phone") but not the index. Looks the index up so that
// callers see the same name PostgreSQL reports. Empty when not found.
std::string FindUniqueIndex(sqlite3* db, absl::string_view message) {
  constexpr absl::string_view kPrefix = "UNIQUE constraint failed: ";
  const size_t at = message.find(kPrefix);
  if (at == absl::string_view::npos) return "";
  std::string table;
  std::vector<std::string> columns;
  for (absl::string_view item : absl::StrSplit(message.substr(at + kPrefix.size()), ", ")) {
    const size_t dot = item.find('.');
    if (dot == absl::string_view::npos) return "";
    table = std::string(item.substr(0, dot));
    columns.emplace_back(item.substr(dot + 1));
  }
  std::sort(columns.begin(), columns.end());
  constexpr char kSql[] =
      "SELECT il.name, ii.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii"
      " WHERE il.\"unique\" = 1 ORDER BY il.name, ii.seqno";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, kSql, -1, &stmt, nullptr) != SQLITE_OK) return "";
  sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  absl::flat_hash_map<std::string, std::vector<std::string>> indexes;
  std::vector<std::string> order;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* index = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const auto* column = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    if (index == nullptr || column == nullptr) continue;
    auto [it, inserted] = indexes.try_emplace(index);
    if (inserted) order.push_back(index);
    it->second.push_back(column);
  }
  sqlite3_finalize(stmt);
  for (const std::string& name : order) {
    std::vector<std::string> cols = indexes[name];
    std::sort(cols.begin(), cols.end());
    if (cols == columns) return name;
  }
  return "";
}

// Whether [tail, end) holds only blanks and semicolons (what follows a statement).
bool IsBlank(const char* tail, const char* end) {
  if (tail == nullptr) return true;
  for (; tail < end; ++tail) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return false;
  }
  return true;
}

// Process-wide SQLite settings, made once before the first connection. Memory statistics
// off: with them on (SQLite's default), every allocation of every connection takes one
// global mutex, which the connections of a busy service then contend on (seen as SQLite's
// mutex and memory barrier at the top of a write profile). Nothing reads the statistics.
void ConfigureSqliteOnce() {
  static const bool configured = [] {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  }();
  (void)configured;  // SQLITE_MISUSE when the library was already initialized: no harm
}

// One sqlite3 handle with its prepared statements. Used by one thread at a time.
class SqliteConnection {
 public:
  // `vfs`: nullptr for SQLite's default.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                                bool memory,
                                                                const DatabaseOptions& options,
                                                                const char* vfs = nullptr) {
    ConfigureSqliteOnce();
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
    auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
    if (rc != SQLITE_OK) {
      absl::Status s = SqliteStatus(db, rc, "", nullptr);
      return absl::Status(s.code(), absl::StrCat("cannot open \"", path, "\": ", s.message()));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
    std::vector<std::string> pragmas;
    if (!memory) pragmas.push_back("PRAGMA journal_mode=WAL");
    pragmas.push_back(
        absl::StrCat("PRAGMA synchronous=", absl::AsciiStrToUpper(options.sqlite_synchronous)));
    pragmas.push_back("PRAGMA foreign_keys=ON");
    pragmas.push_back(absl::StrCat("PRAGMA cache_size=-", options.sqlite_cache_mib * 1024));
    pragmas.push_back(
        absl::StrCat("PRAGMA wal_autocheckpoint=", options.sqlite_wal_autocheckpoint_pages));
    // Statement journals of SAVEPOINTs (group commit, imports) in memory, not in a temp
    // file created and deleted per statement.
    pragmas.push_back("PRAGMA temp_store=MEMORY");
    for (const std::string& pragma : pragmas) {
      if (absl::Status s = conn->Exec(pragma, nullptr); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("cannot open \"", path, "\": ", s.message()));
      }
    }
    return conn;
  }

  ~SqliteConnection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }

  // Runs statements without parameters or results.
  absl::Status Exec(absl::string_view sql, bool* retryable) {
    const std::string s(sql);
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, sql, retryable);
    return absl::OkStatus();
  }

  void RollbackIfOpen() {
    if (sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  // A prepared statement, reset (or finalized when not cached) on destruction.
  class Statement {
   public:
    Statement(sqlite3_stmt* stmt, bool cached) : stmt_(stmt), cached_(cached) {}
    Statement(Statement&& other) noexcept : stmt_(other.stmt_), cached_(other.cached_) {
      other.stmt_ = nullptr;
    }
    Statement& operator=(Statement&&) = delete;
    ~Statement() {
      if (stmt_ == nullptr) return;
      if (cached_) {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
      } else {
        sqlite3_finalize(stmt_);
      }
    }
    sqlite3_stmt* get() const { return stmt_; }
    void Reset() { sqlite3_reset(stmt_); }

   private:
    sqlite3_stmt* stmt_;
    bool cached_;
  };

  absl::StatusOr<Statement> Prepare(absl::string_view sql, bool* retryable) {
    if (auto it = cache_.find(sql); it != cache_.end()) return Statement(it->second, true);
    const bool cache = cache_.size() < kMaxCachedStatements;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) return SqliteStatus(db_, rc, sql, retryable);
    if (stmt == nullptr) {
      return absl::InternalError(
          absl::StrCat("sqlite: empty statement (in: ", internal::SqlForMessage(sql), ")"));
    }
    if (!IsBlank(tail, sql.data() + sql.size())) {
      sqlite3_finalize(stmt);
      return absl::InternalError(
          absl::StrCat("sqlite: several statements given to Query/Execute; use ExecuteScript (in: ",
                       internal::SqlForMessage(sql), ")"));
    }
    if (cache) cache_.emplace(std::string(sql), stmt);
    return Statement(stmt, cache);
  }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
};

absl::Status Bind(sqlite3* db, sqlite3_stmt* stmt, absl::string_view sql,
                  const std::vector<Value>& params) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return absl::InternalError(
        absl::StrCat("statement has ", expected, " placeholders but ", params.size(),
                     " parameters were given (in: ", internal::SqlForMessage(sql), ")"));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const Value& v = params[i];
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(v)) {
      rc = sqlite3_bind_null(stmt, index);
    } else if (const auto* n = std::get_if<int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, index, *n);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, index, *d);
    } else if (const auto* s = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else if (const auto* b = std::get_if<Bytes>(&v)) {
      rc = sqlite3_bind_blob64(stmt, index, b->data.data(), b->data.size(), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return SqliteStatus(db, rc, sql, nullptr);
  }
  return absl::OkStatus();
}

Row ReadRow(sqlite3_stmt* stmt) {
  const int n = sqlite3_column_count(stmt);
  std::vector<Value> cells;
  cells.reserve(n);
  for (int c = 0; c < n; ++c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        cells.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
        break;
      case SQLITE_FLOAT:
        cells.emplace_back(sqlite3_column_double(stmt, c));
        break;
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        cells.emplace_back(std::string(text != nullptr ? text : "", size));
        break;
      }
      case SQLITE_BLOB: {
        const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        cells.emplace_back(Bytes{blob != nullptr ? std::string(blob, size) : std::string()});
        break;
      }
      default:
        cells.emplace_back(std::monostate{});
        break;
    }
  }
  return Row(std::move(cells));
}

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteConnection* conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  absl::StatusOr<Rows> Query(absl::string_view sql, const std::vector<Value>& params) override {
    if (absl::Status deferred = Sync(); !deferred.ok()) return deferred;
    Rows rows;
    absl::Status s = Run(sql, params, &rows);
    if (!s.ok()) return s;
    return rows;
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                  const std::vector<Value>& params) override {
    if (absl::Status deferred = Sync(); !deferred.ok()) return deferred;
    absl::Status s = Run(sql, params, nullptr);
    if (!s.ok()) return s;
    return static_cast<int64_t>(sqlite3_changes64(conn_->db()));
  }

  // Runs at once, but reports an error the way PostgreSQL's pipeline does (at the next
  // waiting call), skipping the deferred statements after it, so that code behaves the
  // same on both drivers.
  absl::Status ExecuteDeferred(absl::string_view sql, const std::vector<Value>& params) override {
    if (!deferred_error_.ok()) return absl::OkStatus();
    deferred_error_ = Run(sql, params, nullptr);
    return absl::OkStatus();
  }

  absl::Status Sync() override { return std::exchange(deferred_error_, absl::OkStatus()); }

  absl::Status ExecuteScript(absl::string_view sql) override {
    if (absl::Status deferred = Sync(); !deferred.ok()) return deferred;
    if (read_only_) {
      return absl::InternalError("ExecuteScript in a read-only transaction");
    }
    return conn_->Exec(sql, &conflict_);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

  bool conflict() const { return conflict_; }

 private:
  absl::Status Run(absl::string_view sql, const std::vector<Value>& params, Rows* rows) {
    absl::StatusOr<SqliteConnection::Statement> stmt = conn_->Prepare(sql, &conflict_);
    if (!stmt.ok()) return stmt.status();
    if (read_only_ && sqlite3_stmt_readonly(stmt->get()) == 0) {
      return absl::InternalError(absl::StrCat(
          "sqlite: write statement in a read-only transaction (in: ", internal::SqlForMessage(sql),
          ")"));
    }
    if (absl::Status s = Bind(conn_->db(), stmt->get(), sql, params); !s.ok()) return s;
    while (true) {
      const int rc = sqlite3_step(stmt->get());
      if (rc == SQLITE_ROW) {
        if (rows != nullptr) rows->push_back(ReadRow(stmt->get()));
        continue;
      }
      if (rc == SQLITE_DONE) return absl::OkStatus();
      absl::Status status = SqliteStatus(conn_->db(), rc, sql, &conflict_);
      if (absl::IsAlreadyExists(status)) {
        const std::string message(status.message());
        stmt->Reset();
        const std::string index = FindUniqueIndex(conn_->db(), message);
        if (!index.empty()) {
          return absl::AlreadyExistsError(absl::StrCat(message, " (index ", index, ")"));
        }
      }
      return status;
    }
  }

  SqliteConnection* conn_;
  const bool read_only_;
  bool conflict_ = false;
  absl::Status deferred_error_;  // of a deferred statement, not reported yet
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, bool memory, DatabaseOptions options)
      : path_(std::move(path)),
        memory_(memory),
        options_(std::move(options)),
        pool_(memory_ ? 1 : options_.pool_size,
              [this] { return SqliteConnection::Open(path_, memory_, options_); }),
        writer_pool_(1, [this] { return OpenWriter(); }),
        bulk_pool_(options_.sqlite_bulk_readers, [this] { return OpenBulkReader(); }) {}

  absl::Status Init() {
    // The first connection switches the file to WAL before any other is opened.
    absl::StatusOr<std::unique_ptr<SqliteConnection>> conn =
        SqliteConnection::Open(path_, memory_, options_);
    if (!conn.ok()) return conn.status();
    pool_.Add(*std::move(conn));
    if (!memory_ && options_.sqlite_wal_autocheckpoint_pages > 0) {
      SqliteCheckpointerOptions checkpoints;
      checkpoints.threshold_pages = options_.sqlite_wal_autocheckpoint_pages;
      checkpoints.bulk_threshold_pages = options_.sqlite_bulk_wal_autocheckpoint_pages;
      checkpoints.synchronous = options_.sqlite_synchronous;
      checkpoints.busy_timeout = options_.busy_timeout;
      auto checkpointer = SqliteCheckpointer::Start(path_, checkpoints);
      if (!checkpointer.ok()) return checkpointer.status();
      checkpointer_ = *std::move(checkpointer);
    }
    return absl::OkStatus();
  }

  void BulkWritesEnded() override {
    if (checkpointer_ != nullptr) checkpointer_->BulkWritesEnded();
  }

  absl::Status InTransaction(const TransactionFn& fn, const TransactionOptions& options) override {
    return internal::RunWithRetries(options, [&] { return Attempt(fn, options); });
  }

  absl::Status Ping() override {
    TransactionOptions options;
    options.read_only = true;
    options.max_attempts = 1;
    return InTransaction([](Transaction& tx) { return tx.Query("SELECT 1").status(); }, options);
  }

  Dialect dialect() const override { return Dialect::kSqlite; }

 private:
  // Holds the in-process write lock for its lifetime.
  class WriterLock {
   public:
    explicit WriterLock(SqliteDatabase* db) : db_(db) {}
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;
    ~WriterLock() {
      if (!held_) return;
      absl::MutexLock lock(&db_->writer_mu_);
      db_->writer_active_ = false;
    }
    bool Acquire(absl::Duration timeout) {
      auto is_free = [](bool* active) { return !*active; };
      if (!db_->writer_mu_.LockWhenWithTimeout(absl::Condition(+is_free, &db_->writer_active_),
                                               timeout)) {
        db_->writer_mu_.Unlock();
        return false;
      }
      db_->writer_active_ = true;
      db_->writer_mu_.Unlock();
      held_ = true;
      return true;
    }

   private:
    SqliteDatabase* db_;
    bool held_ = false;
  };

  // The SqliteDatabase objects whose transaction is running on this thread, and whether
  // that transaction writes. Used to refuse nested calls that could only deadlock.
  struct Active {
    const SqliteDatabase* db;
    bool write;
  };
  static std::vector<Active>& ActiveOnThisThread() {
    thread_local std::vector<Active> active;
    return active;
  }
  class ActiveGuard {
   public:
    ActiveGuard(const SqliteDatabase* db, bool write) {
      ActiveOnThisThread().push_back({db, write});
    }
    ~ActiveGuard() { ActiveOnThisThread().pop_back(); }
    ActiveGuard(const ActiveGuard&) = delete;
    ActiveGuard& operator=(const ActiveGuard&) = delete;
  };

  absl::Status CheckNotNested(bool write) const {
    for (const Active& a : ActiveOnThisThread()) {
      if (a.db != this) continue;
      // In memory there is one connection; on a file, one writer.
      if (memory_ || (write && a.write)) {
        return absl::InternalError(
            "sqlite: InTransaction called from inside a transaction on the same database; "
            "this would deadlock (one connection in memory, one writer on a file)");
      }
    }
    return absl::OkStatus();
  }

  AttemptResult Attempt(const TransactionFn& fn, const TransactionOptions& options) {
    if (absl::Status s = CheckNotNested(!options.read_only); !s.ok()) return {s};
    WriterLock writer(this);
    if (!options.read_only && !writer.Acquire(options_.busy_timeout)) {
      return {ConflictError("sqlite: another write transaction of this process held the "
                            "write lock for longer than busy_timeout"),
              /*retryable=*/true};
    }
    // A file database writes through its writer connection (held under the write lock) and
    // runs bulk reads on their own connections; in memory there is only the one connection.
    auto& pool = memory_              ? pool_
                 : !options.read_only ? writer_pool_
                 : options.bulk_read  ? bulk_pool_
                                      : pool_;
    absl::StatusOr<internal::ConnectionPool<SqliteConnection>::Lease> lease =
        pool.Acquire(options_.acquire_timeout);
    if (!lease.ok()) return {lease.status()};
    SqliteConnection& conn = **lease;
    conn.RollbackIfOpen();  // Defensive: a connection always comes back idle.

    bool retryable = false;
    absl::Status s =
        conn.Exec(options.read_only ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE", &retryable);
    if (!s.ok()) return {s, retryable};

    SqliteTransaction tx(&conn, options.read_only);
    {
      ActiveGuard active(this, !options.read_only);
      s = fn(tx);
    }
    // Deferred statements fail the function as their own errors would have.
    if (absl::Status deferred = tx.Sync(); s.ok()) s = deferred;
    if (!s.ok()) {
      conn.RollbackIfOpen();
      return {s, tx.conflict()};
    }
    // A bulk write's commit counts its log pages against the bulk threshold.
    const bool bulk_commit = options.bulk_write && checkpointer_ != nullptr;
    if (bulk_commit) checkpointer_->SetBulkCommits(true);
    s = conn.Exec("COMMIT", &retryable);
    if (bulk_commit) checkpointer_->SetBulkCommits(false);
    if (!s.ok()) {
      conn.RollbackIfOpen();
      return {s, retryable};
    }
    return {absl::OkStatus(), false, tx.TakeAfterCommit()};
  }

  // The file's writer connection, whose commits leave checkpoints to checkpointer_.
  absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenWriter() {
    DatabaseOptions writer = options_;
    writer.sqlite_cache_mib = options_.sqlite_writer_cache_mib;
    // Its appends to the log are gathered until the commit's sync and written in parts of
    // 64 KiB (sqlite_log_buffer.h); safe only where every commit syncs the log.
    const std::string sync = absl::AsciiStrToUpper(options_.sqlite_synchronous);
    const char* vfs = !memory_ && (sync == "FULL" || sync == "EXTRA") ? BufferedLogVfs() : nullptr;
    auto conn = SqliteConnection::Open(path_, memory_, writer, vfs);
    if (!conn.ok() || checkpointer_ == nullptr) return conn;
    checkpointer_->Attach((*conn)->db());
    // A bulk write grows the log past its usual length (sqlite_checkpointer.h); the first
    // commit after the log is next started again cuts the file back to twice the usual
    // threshold's frames, which ordinary writes seldom reach (so their commits seldom
    // extend it).
    if (options_.sqlite_bulk_wal_autocheckpoint_pages > options_.sqlite_wal_autocheckpoint_pages) {
      // A frame is a page of SQLite's default size, which these files keep, and its header.
      constexpr int64_t kFrameBytes = 4096 + 24;
      const int64_t limit = int64_t{2} * options_.sqlite_wal_autocheckpoint_pages * kFrameBytes;
      if (absl::Status s =
              (*conn)->Exec(absl::StrCat("PRAGMA journal_size_limit=", limit), nullptr);
          !s.ok()) {
        return s;
      }
    }
    return conn;
  }

  // A connection for bulk reads: a small page cache of its own.
  absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenBulkReader() {
    DatabaseOptions bulk = options_;
    bulk.sqlite_cache_mib = options_.sqlite_bulk_cache_mib;
    return SqliteConnection::Open(path_, memory_, bulk);
  }

  const std::string path_;
  const bool memory_;
  const DatabaseOptions options_;
  // Before the pools: destroyed after them, so after the writer connection it serves.
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  internal::ConnectionPool<SqliteConnection> pool_;         // readers (and all, in memory)
  internal::ConnectionPool<SqliteConnection> writer_pool_;  // the file's writer connection
  internal::ConnectionPool<SqliteConnection> bulk_pool_;    // bulk readers of a file
  absl::Mutex writer_mu_;
  bool writer_active_ ABSL_GUARDED_BY(writer_mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(absl::string_view path,
                                                     const DatabaseOptions& options) {
  if (absl::Status s = internal::ValidateOptions(options); !s.ok()) return s;
  if (path.empty()) return absl::InvalidArgumentError("empty SQLite database path");
  const bool memory = path == ":memory:";
  auto db = std::make_unique<SqliteDatabase>(std::string(path), memory, options);
  if (absl::Status s = db->Init(); !s.ok()) return s;
  return db;
}

}  // namespace kelola::db
