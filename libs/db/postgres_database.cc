#include "libs/db/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "libs/db/driver.h"

namespace kelola::db {
namespace {

using internal::AttemptResult;

// Type OIDs from the PostgreSQL catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

// Statements kept prepared per connection; SQL beyond this runs unnamed.
constexpr size_t kMaxCachedStatements = 512;
// Deferred statements sent before their results are read. Their results are a few bytes
// each, so the server never blocks writing them while the client is still sending (which
// could deadlock a blocking connection).
constexpr size_t kMaxPipelined = 256;
// Pipelined statements sent to the server at once when no result is awaited (AfterSend).
constexpr size_t kFlushEvery = 16;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

void IgnoreNotice(void*, const char*) {}

std::string TrimMessage(const char* msg) {
  return std::string(absl::StripTrailingAsciiWhitespace(msg != nullptr ? msg : ""));
}

// What went wrong with a statement, for the retry loop and the connection owner.
struct ErrorInfo {
  bool retryable = false;
  bool broken = false;            // the connection is gone; reset before reuse
  bool stale_statements = false;  // prepared statements must be dropped
};

absl::Status PgStatus(PGconn* conn, const PGresult* res, absl::string_view sql, ErrorInfo* info) {
  if (PQstatus(conn) == CONNECTION_BAD) {
    info->broken = true;
    return absl::UnavailableError(
        absl::StrCat("postgres: connection lost: ", TrimMessage(PQerrorMessage(conn))));
  }
  const char* state_c = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_c != nullptr ? state_c : "";
  std::string msg = TrimMessage(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (msg.empty()) msg = TrimMessage(PQerrorMessage(conn));
  if (const char* primary =
          res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
      primary != nullptr) {
    msg = primary;
  }
  if (state == "40001" || state == "40P01") {
    info->retryable = true;
    return ConflictError(absl::StrCat("postgres: ", msg, " [", state, "]"));
  }
  if (state == "23505") {
    const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    return absl::AlreadyExistsError(absl::StrCat("postgres: ", msg, " (constraint ",
                                                 constraint != nullptr ? constraint : "?", ")"));
  }
  if (absl::StartsWith(state, "23")) {
    return absl::FailedPreconditionError(absl::StrCat("postgres: ", msg, " [", state, "]"));
  }
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03") {
    info->broken = true;
    return absl::UnavailableError(absl::StrCat("postgres: ", msg, " [", state, "]"));
  }
  if (state == "57014") {
    return absl::DeadlineExceededError(absl::StrCat("postgres: ", msg, " [", state, "]"));
  }
  if (state == "0A000" && absl::StrContains(msg, "cached plan must not change result type")) {
    // The schema changed under a prepared statement: drop the cache and run again.
    info->stale_statements = true;
    info->retryable = true;
    return ConflictError(absl::StrCat("postgres: ", msg, " [", state, "]"));
  }
  return absl::InternalError(absl::StrCat("postgres: ", msg, " [", state.empty() ? "?" : state,
                                          "] (in: ", internal::SqlForMessage(sql), ")"));
}

bool HexValue(char c, int* v) {
  if (c >= '0' && c <= '9') {
    *v = c - '0';
  } else if (c >= 'a' && c <= 'f') {
    *v = c - 'a' + 10;
  } else if (c >= 'A' && c <= 'F') {
    *v = c - 'A' + 10;
  } else {
    return false;
  }
  return true;
}

// Decodes bytea text output: hex format ("\x0a1b..."), or the legacy escape format.
std::string DecodeBytea(const char* text, int len) {
  if (len >= 2 && text[0] == '\\' && text[1] == 'x') {
    std::string out;
    out.reserve((len - 2) / 2);
    for (int i = 2; i + 1 < len; i += 2) {
      int hi = 0;
      int lo = 0;
      if (!HexValue(text[i], &hi) || !HexValue(text[i + 1], &lo)) break;
      out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
  }
  size_t out_len = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &out_len);
  if (raw == nullptr) return std::string(text, len);
  std::string out(reinterpret_cast<const char*>(raw), out_len);
  PQfreemem(raw);
  return out;
}

Value ParseCell(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col)) return std::monostate{};
  const char* text = PQgetvalue(res, row, col);
  const int len = PQgetlength(res, row, col);
  absl::string_view sv(text, len);
  switch (PQftype(res, col)) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid: {
      int64_t n = 0;
      if (absl::SimpleAtoi(sv, &n)) return n;
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      if (sv == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (sv == "Infinity") return std::numeric_limits<double>::infinity();
      if (sv == "-Infinity") return -std::numeric_limits<double>::infinity();
      double d = 0;
      if (absl::SimpleAtod(sv, &d)) return d;
      break;
    }
    case kBoolOid:
      return int64_t{sv == "t" ? 1 : 0};
    case kByteaOid:
      return Bytes{DecodeBytea(text, len)};
    default:
      break;
  }
  return std::string(sv);
}

// The binary wire format of int8 and float8: 8 bytes, most significant first.
std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// Parameters in the form PQexecPrepared wants. int64, double and bytes go in binary.
class Params {
 public:
  explicit Params(const std::vector<Value>& params) {
    const size_t n = params.size();
    types_.resize(n, 0);
    values_.resize(n, nullptr);
    lengths_.resize(n, 0);
    formats_.resize(n, 0);
    storage_.resize(n);
    signature_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        signature_.push_back('n');
        continue;  // NULL: value nullptr, type left to the server.
      }
      if (const auto* x = std::get_if<int64_t>(&v)) {
        signature_.push_back('i');
        types_[i] = kInt8Oid;
        storage_[i] = BigEndian(static_cast<uint64_t>(*x));
        formats_[i] = 1;
      } else if (const auto* d = std::get_if<double>(&v)) {
        signature_.push_back('d');
        types_[i] = kFloat8Oid;
        uint64_t bits = 0;
        std::memcpy(&bits, d, 8);
        storage_[i] = BigEndian(bits);
        formats_[i] = 1;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // Text in text format with an unspecified type, so that the server infers the
        // column's type (text, varchar, timestamptz, numeric, ...).
        signature_.push_back('t');
        storage_[i] = *s;
      } else if (const auto* b = std::get_if<Bytes>(&v)) {
        signature_.push_back('b');
        types_[i] = kByteaOid;
        storage_[i] = b->data;
        formats_[i] = 1;
      }
      values_[i] = storage_[i].data();
      lengths_[i] = static_cast<int>(storage_[i].size());
    }
  }

  int size() const { return static_cast<int>(values_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // One letter per parameter type; part of the prepared-statement cache key because
  // the declared types are fixed at prepare time.
  const std::string& signature() const { return signature_; }

 private:
  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::string> storage_;
  std::string signature_;
};

class PgConnection {
 public:
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const std::string& url,
                                                               const DatabaseOptions& options) {
    const int64_t timeout_s = std::max<int64_t>(
        1, absl::ToInt64Seconds(absl::Ceil(options.connect_timeout, absl::Seconds(1))));
    const std::string timeout = absl::StrCat(timeout_s);
    const char* keywords[] = {"dbname", "connect_timeout", "client_encoding",
                              "fallback_application_name", nullptr};
    const char* values[] = {url.c_str(), timeout.c_str(), "UTF8", "kelola", nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
    if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
    auto result = std::unique_ptr<PgConnection>(new PgConnection(conn));
    if (PQstatus(conn) != CONNECTION_OK) {
      return absl::UnavailableError(absl::StrCat("postgres: cannot connect to ",
                                                 internal::RedactUrl(url), ": ",
                                                 TrimMessage(PQerrorMessage(conn))));
    }
    PQsetNoticeProcessor(conn, &IgnoreNotice, nullptr);
    return result;
  }

  ~PgConnection() { PQfinish(conn_); }

  PGconn* conn() const { return conn_; }

  // Makes the connection usable: reconnects a broken one, drops stale prepared
  // statements, and ends any transaction left open.
  absl::Status Ready() {
    Drain();
    if (PQstatus(conn_) != CONNECTION_OK || needs_reset_) {
      needs_reset_ = false;
      PQreset(conn_);
      prepared_.clear();
      pending_.clear();
      sync_sent_ = false;
      if (PQstatus(conn_) != CONNECTION_OK) {
        return absl::UnavailableError(
            absl::StrCat("postgres: reconnect failed: ", TrimMessage(PQerrorMessage(conn_))));
      }
      PQsetNoticeProcessor(conn_, &IgnoreNotice, nullptr);
    }
    if (drop_statements_) {
      PgResult r(PQexec(conn_, "DEALLOCATE ALL"));
      prepared_.clear();
      drop_statements_ = false;
    }
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      PgResult r(PQexec(conn_, "ROLLBACK"));
    }
    return absl::OkStatus();
  }

  // Runs a command without parameters (BEGIN, COMMIT, scripts).
  absl::Status Exec(absl::string_view sql, ErrorInfo* info, std::string* command_status = nullptr) {
    if (absl::Status deferred = Sync(info); !deferred.ok()) return deferred;
    const std::string s(sql);
    PgResult res(PQexec(conn_, s.c_str()));
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
      return Fail(res.get(), sql, info);
    }
    if (command_status != nullptr) *command_status = PQcmdStatus(res.get());
    return absl::OkStatus();
  }

  // Runs a statement with `?` placeholders through a cached prepared statement. It goes
  // through the pipeline: with the deferred statements still in flight (and its own
  // prepare, the first time) it costs one round trip.
  absl::StatusOr<PgResult> Run(absl::string_view sql, const std::vector<Value>& values,
                               ErrorInfo* info) {
    if (absl::Status sent = Send(sql, values, info, /*keep_result=*/true); !sent.ok()) {
      return sent;
    }
    PgResult kept;
    if (absl::Status s = Sync(info, &kept); !s.ok()) return s;
    if (!kept) return absl::InternalError("postgres: pipelined statement gave no result");
    return kept;
  }

  // Sends a statement in pipeline mode without reading its result; Sync() reads the
  // results of everything sent and returns the first error.
  absl::Status Send(absl::string_view sql, const std::vector<Value>& values, ErrorInfo* info,
                    bool keep_result = false) {
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) != 1) {
      return Fail(nullptr, sql, info);
    }
    Params params(values);
    absl::StatusOr<Statement> st = Find(sql, params);
    if (!st.ok()) return st.status();
    const std::string* name = st->name;
    if (name == nullptr) {
      if (prepared_.size() >= kMaxCachedStatements) {
        if (PQsendQueryParams(conn_, st->rewritten.c_str(), params.size(), params.types(),
                              params.values(), params.lengths(), params.formats(),
                              /*resultFormat=*/0) != 1) {
          return SendFailed(sql, info);
        }
        pending_.push_back({std::string(sql), "", keep_result});
        return AfterSend(info, keep_result);
      }
      std::string fresh = absl::StrCat("kelola_", ++next_statement_);
      if (PQsendPrepare(conn_, fresh.c_str(), st->rewritten.c_str(), params.size(),
                        params.types()) != 1) {
        return SendFailed(sql, info);
      }
      // Counted as prepared now; Sync() forgets it again if the prepare did not succeed.
      pending_.push_back({std::string(sql), st->key});
      name = &prepared_.emplace(std::move(st->key), std::move(fresh)).first->second;
    }
    if (PQsendQueryPrepared(conn_, name->c_str(), params.size(), params.values(), params.lengths(),
                            params.formats(), /*resultFormat=*/0) != 1) {
      return SendFailed(sql, info);
    }
    pending_.push_back({std::string(sql), "", keep_result});
    return AfterSend(info, keep_result);
  }

  // Reads the results of the statements Send() sent and leaves pipeline mode; returns the
  // first error (the statements after a failed one were not run). The result of a
  // statement sent with keep_result goes to `kept`.
  absl::Status Sync(ErrorInfo* info, PgResult* kept = nullptr) {
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return absl::OkStatus();
    absl::Status first;
    if (!sync_sent_ && PQpipelineSync(conn_) != 1) return SendFailed("(pipeline sync)", info);
    sync_sent_ = false;
    size_t next = 0;
    size_t nulls = 0;
    while (true) {
      PgResult res(PQgetResult(conn_));
      if (!res) {
        // Each statement's result is followed by a null; more nulls than statements, or
        // a dead connection, mean the sync will not come.
        if (PQstatus(conn_) != CONNECTION_OK || ++nulls > pending_.size() + 1) {
          if (first.ok()) first = Fail(nullptr, "(pipeline results)", info);
          needs_reset_ = true;
          pending_.clear();
          return first;
        }
        continue;
      }
      const ExecStatusType st = PQresultStatus(res.get());
      if (st == PGRES_PIPELINE_SYNC) break;
      const Pending* p = next < pending_.size() ? &pending_[next] : nullptr;
      ++next;
      if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (p != nullptr && p->keep_result && kept != nullptr) *kept = std::move(res);
        continue;
      }
      if (p != nullptr && !p->prepared_key.empty()) prepared_.erase(p->prepared_key);
      if (st == PGRES_PIPELINE_ABORTED) continue;  // skipped after an earlier error
      if (first.ok()) first = Fail(res.get(), p != nullptr ? p->sql : "", info);
    }
    pending_.clear();
    if (PQexitPipelineMode(conn_) != 1) {
      needs_reset_ = true;
      if (first.ok()) first = Fail(nullptr, "(pipeline exit)", info);
    }
    return first;
  }

  // Sends the sync of the statements sent so far without waiting for their results: the
  // next Sync() (Ready(), when the connection is next taken) reads them, long arrived by
  // then. For a read-only transaction's COMMIT, whose answer changes nothing.
  absl::Status SyncLater(ErrorInfo* info) {
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return absl::OkStatus();
    if (PQpipelineSync(conn_) != 1) return SendFailed("(pipeline sync)", info);
    sync_sent_ = true;
    return absl::OkStatus();
  }

  // Whether statements were sent whose results nobody has read.
  bool has_pending() const { return !pending_.empty(); }

  // Reads and drops whatever a pipeline still has pending (before a rollback or reuse).
  void Drain() {
    ErrorInfo ignored;
    (void)Sync(&ignored);
  }

 private:
  // How to run `sql` with parameters of these types: the name of its prepared statement,
  // or, not prepared yet, its text with $n placeholders and the key to cache it under.
  struct Statement {
    const std::string* name = nullptr;
    std::string rewritten;
    std::string key;
  };
  absl::StatusOr<Statement> Find(absl::string_view sql, const Params& params) {
    Statement st;
    st.key = absl::StrCat(sql, "\x1f", params.signature());
    if (auto it = prepared_.find(st.key); it != prepared_.end()) {
      st.name = &it->second;
      return st;
    }
    int count = 0;
    st.rewritten = RewritePlaceholders(sql, &count);
    if (count != params.size()) {
      return absl::InternalError(
          absl::StrCat("statement has ", count, " placeholders but ", params.size(),
                       " parameters were given (in: ", internal::SqlForMessage(sql), ")"));
    }
    return st;
  }

  struct Pending {
    std::string sql;           // for error messages
    std::string prepared_key;  // set for a PQsendPrepare: forgotten if it fails
    bool keep_result = false;  // Run() waits for this result
  };

  // Statements stay in libpq's buffer until a result is needed (the sync sends them all in
  // one write) or kFlushEvery are waiting: a write of the ledger (up to about ten statements
  // per round trip) goes out in one write instead of one per statement, each of which also
  // woke the server's backend; a long run of deferred statements (an import's batch) still
  // reaches the server in chunks, which it works on while the caller prepares the next
  // (docs/decisions/storage-driver-details.md).
  absl::Status AfterSend(ErrorInfo* info, bool caller_syncs = false) {
    if (caller_syncs) return absl::OkStatus();  // its sync sends it
    if (pending_.size() >= kMaxPipelined) return Sync(info);
    if (pending_.size() % kFlushEvery == 0 && PQflush(conn_) < 0) {
      return SendFailed("(pipeline flush)", info);
    }
    return absl::OkStatus();
  }

  absl::Status SendFailed(absl::string_view sql, ErrorInfo* info) {
    absl::Status s = Fail(nullptr, sql, info);
    needs_reset_ = true;  // the pipeline's state is unknown
    info->broken = true;
    pending_.clear();
    sync_sent_ = false;
    return s;
  }

  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  absl::Status Fail(const PGresult* res, absl::string_view sql, ErrorInfo* info) {
    absl::Status s = PgStatus(conn_, res, sql, info);
    if (info->stale_statements) drop_statements_ = true;
    if (info->broken) needs_reset_ = true;
    return s;
  }

  PGconn* conn_;
  absl::flat_hash_map<std::string, std::string> prepared_;  // sql + signature -> name
  std::vector<Pending> pending_;  // sent in pipeline mode, results not read yet
  bool sync_sent_ = false;        // SyncLater() sent the sync of pending_
  int64_t next_statement_ = 0;
  bool drop_statements_ = false;
  bool needs_reset_ = false;
};

class PgTransaction final : public Transaction {
 public:
  PgTransaction(PgConnection* conn, ErrorInfo* info) : conn_(conn), info_(info) {}

  absl::StatusOr<Rows> Query(absl::string_view sql, const std::vector<Value>& params) override {
    absl::StatusOr<PgResult> res = Noted(conn_->Run(sql, params, info_));
    if (!res.ok()) return res.status();
    const PGresult* r = res->get();
    const int nrows = PQntuples(r);
    const int ncols = PQnfields(r);
    Rows rows;
    rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      std::vector<Value> cells;
      cells.reserve(ncols);
      for (int c = 0; c < ncols; ++c) cells.push_back(ParseCell(r, i, c));
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                  const std::vector<Value>& params) override {
    absl::StatusOr<PgResult> res = Noted(conn_->Run(sql, params, info_));
    if (!res.ok()) return res.status();
    int64_t n = 0;
    if (!absl::SimpleAtoi(PQcmdTuples(res->get()), &n)) n = 0;
    return n;
  }

  absl::Status ExecuteDeferred(absl::string_view sql, const std::vector<Value>& params) override {
    return Noted(conn_->Send(sql, params, info_));
  }

  absl::Status Sync() override { return Noted(conn_->Sync(info_)); }

  absl::Status ExecuteScript(absl::string_view sql) override {
    return Noted(conn_->Exec(sql, info_));
  }

  // Whether a statement of this transaction failed (its caller may have gone on).
  bool failed() const { return failed_; }

  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  absl::Status Noted(absl::Status s) {
    if (!s.ok()) failed_ = true;
    return s;
  }
  template <typename T>
  absl::StatusOr<T> Noted(absl::StatusOr<T> s) {
    if (!s.ok()) failed_ = true;
    return s;
  }

  PgConnection* conn_;
  ErrorInfo* info_;
  bool failed_ = false;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, DatabaseOptions options)
      : url_(std::move(url)),
        options_(std::move(options)),
        pool_(options_.pool_size, [this] { return PgConnection::Connect(url_, options_); }) {}

  absl::Status Init() {
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = PgConnection::Connect(url_, options_);
    if (!conn.ok()) return conn.status();
    pool_.Add(*std::move(conn));
    return absl::OkStatus();
  }

  absl::Status InTransaction(const TransactionFn& fn, const TransactionOptions& options) override {
    return internal::RunWithRetries(options, [&] { return Attempt(fn, options); });
  }

  absl::Status Ping() override {
    TransactionOptions options;
    options.read_only = true;
    options.max_attempts = 2;  // A broken connection is reset on the second attempt.
    return InTransaction([](Transaction& tx) { return tx.Query("SELECT 1").status(); }, options);
  }

  absl::Status Vacuum(absl::string_view table, bool truncate) override {
    if (table.empty() || !std::all_of(table.begin(), table.end(), [](char c) {
          return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
        })) {
      return absl::InvalidArgumentError(absl::StrCat("postgres: not a table name: ", table));
    }
    absl::StatusOr<internal::ConnectionPool<PgConnection>::Lease> lease =
        pool_.Acquire(options_.acquire_timeout);
    if (!lease.ok()) return lease.status();
    PgConnection& conn = **lease;
    if (absl::Status s = conn.Ready(); !s.ok()) return s;
    ErrorInfo info;
    return conn.Exec(
        absl::StrCat("VACUUM (SKIP_LOCKED, TRUNCATE ", truncate ? "true" : "false", ") ", table),
        &info);
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

 private:
  AttemptResult Attempt(const TransactionFn& fn, const TransactionOptions& options) {
    absl::StatusOr<internal::ConnectionPool<PgConnection>::Lease> lease =
        pool_.Acquire(options_.acquire_timeout);
    if (!lease.ok()) return {lease.status()};
    PgConnection& conn = **lease;
    if (absl::Status s = conn.Ready(); !s.ok()) return {s};

    std::string begin = "BEGIN";
    if (options.serializable) absl::StrAppend(&begin, " ISOLATION LEVEL SERIALIZABLE");
    if (options.read_only) absl::StrAppend(&begin, " READ ONLY");
    ErrorInfo info;
    // BEGIN goes out with the transaction's first statement, and COMMIT with its last
    // deferred ones: a transaction costs no round trip of its own.
    if (absl::Status s = conn.Send(begin, {}, &info); !s.ok()) {
      return {s, info.retryable || info.broken};
    }

    PgTransaction tx(&conn, &info);
    absl::Status s = fn(tx);
    if (!s.ok()) {
      Rollback(conn);
      // Nothing was committed, so a connection found broken (e.g. one that died while idle
      // in the pool, noticed at the first statement) is safe to reset and run again on.
      return {s, info.retryable || info.broken};
    }
    if (options.read_only && !options.serializable && !tx.failed() && !conn.has_pending()) {
      // Every statement's result has been read and none failed: the COMMIT of a read-only
      // transaction can only end it, so the caller does not wait for its answer (a round trip
      // per read); the connection's next user reads it. A connection found broken then is
      // reset as any other.
      absl::Status sent = conn.Send("COMMIT", {}, &info);
      if (sent.ok()) sent = conn.SyncLater(&info);
      if (!sent.ok()) return {sent, info.retryable || info.broken};
      return {absl::OkStatus(), false, tx.TakeAfterCommit()};
    }
    if (absl::Status sent = conn.Send("COMMIT", {}, &info, /*keep_result=*/true); !sent.ok()) {
      Rollback(conn);
      return {sent, info.retryable};
    }
    PgResult commit;
    s = conn.Sync(&info, &commit);
    if (!s.ok()) {
      if (info.broken) {
        return {absl::UnavailableError(absl::StrCat(
            "postgres: connection lost during COMMIT; outcome unknown: ", s.message()))};
      }
      // A deferred statement or the commit itself failed: nothing was committed.
      Rollback(conn);
      return {s, info.retryable};
    }
    const std::string status = commit ? PQcmdStatus(commit.get()) : "";
    if (status == "ROLLBACK") {
      // A statement failed but `fn` ignored the error: the transaction was dead, and its
      // COMMIT rolled it back.
      if (info.retryable) {
        return {ConflictError("postgres: transaction aborted by a conflict"), true};
      }
      return {absl::InternalError(
          "postgres: a statement failed earlier in the transaction and the error was ignored; "
          "rolled back")};
    }
    if (status != "COMMIT") {
      return {absl::InternalError(absl::StrCat("postgres: COMMIT answered ", status))};
    }
    return {absl::OkStatus(), false, tx.TakeAfterCommit()};
  }

  static void Rollback(PgConnection& conn) {
    conn.Drain();
    if (PQstatus(conn.conn()) != CONNECTION_OK) return;
    if (PQtransactionStatus(conn.conn()) == PQTRANS_IDLE) return;
    PgResult r(PQexec(conn.conn(), "ROLLBACK"));
  }

  const std::string url_;
  const DatabaseOptions options_;
  internal::ConnectionPool<PgConnection> pool_;
};

}  // namespace

std::string RewritePlaceholders(absl::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  size_t i = 0;
  const size_t len = sql.size();
  auto copy_until = [&](size_t end) {
    out.append(sql.data() + i, end - i);
    i = end;
  };
  while (i < len) {
    const char c = sql[i];
    if (c == '?') {
      absl::StrAppend(&out, "$", ++n);
      ++i;
    } else if (c == '\'') {
      // 'string' with '' escapes; E'...' also allows backslash escapes.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !(absl::ascii_isalnum(sql[i - 2]) || sql[i - 2] == '_'));
      size_t j = i + 1;
      while (j < len) {
        if (escapes && sql[j] == '\\') {
          j += 2;
          continue;
        }
        if (sql[j] == '\'') {
          if (j + 1 < len && sql[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      copy_until(std::min(len, j + 1));
    } else if (c == '"') {
      size_t j = i + 1;
      while (j < len) {
        if (sql[j] == '"') {
          if (j + 1 < len && sql[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      copy_until(std::min(len, j + 1));
    } else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      copy_until(j == absl::string_view::npos ? len : j);
    } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
      // Block comments nest in PostgreSQL.
      size_t j = i + 2;
      int depth = 1;
      while (j < len && depth > 0) {
        if (sql[j] == '/' && j + 1 < len && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < len && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copy_until(j);
    } else if (c == '$' && !(i > 0 && (absl::ascii_isalnum(sql[i - 1]) || sql[i - 1] == '_'))) {
      // $tag$ ... $tag$ (tag may be empty); $1 is a positional parameter, copied as is.
      size_t j = i + 1;
      while (j < len && (absl::ascii_isalnum(sql[j]) || sql[j] == '_')) ++j;
      const bool tag_ok =
          j < len && sql[j] == '$' && (j == i + 1 || !absl::ascii_isdigit(sql[i + 1]));
      if (!tag_ok) {
        copy_until(i + 1);
        continue;
      }
      const absl::string_view tag = sql.substr(i, j - i + 1);
      const size_t close = sql.find(tag, j + 1);
      copy_until(close == absl::string_view::npos ? len : close + tag.size());
    } else {
      out.push_back(c);
      ++i;
    }
  }
  *count = n;
  return out;
}

absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(absl::string_view url,
                                                       const DatabaseOptions& options) {
  if (absl::Status s = internal::ValidateOptions(options); !s.ok()) return s;
  const std::string u(url);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(u.c_str(), &error);
  if (parsed == nullptr) {
    std::string msg = error != nullptr ? TrimMessage(error) : "out of memory";
    if (error != nullptr) PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("malformed PostgreSQL URL \"", internal::RedactUrl(url), "\": ", msg));
  }
  PQconninfoFree(parsed);
  auto db = std::make_unique<PostgresDatabase>(u, options);
  if (absl::Status s = db->Init(); !s.ok()) return s;
  return db;
}

}  // namespace kelola::db
