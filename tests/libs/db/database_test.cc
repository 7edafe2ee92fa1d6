// One suite, three backends: SQLite file, SQLite in memory, PostgreSQL (a throwaway
// server started once per test binary; every test gets its own database).

#include "libs/db/database.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/db/migrations.h"
#include "libs/db/postgres_database.h"
#include "libs/db/row_values.h"
#include "libs/testing/free_port.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/temp_dir.h"

namespace {

namespace db = ::kelola::db;
namespace kt = ::kelola::testing;

#define KELOLA_CONCAT_INNER(a, b) a##b
#define KELOLA_CONCAT(a, b) KELOLA_CONCAT_INNER(a, b)
#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status _status = (expr);  \
    ASSERT_TRUE(_status.ok()) << _status; \
  } while (0)
#define EXPECT_OK(expr)                   \
  do {                                    \
    const absl::Status _status = (expr);  \
    EXPECT_TRUE(_status.ok()) << _status; \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(KELOLA_CONCAT(_status_or_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(var, lhs, rexpr) \
  auto var = (rexpr);                              \
  ASSERT_TRUE(var.ok()) << var.status();           \
  lhs = std::move(*var)

// ---------------------------------------------------------------------------------
// The shared PostgreSQL server: started on first use, stopped after the last test.

class PostgresEnvironment : public ::testing::Environment {
 public:
  static PostgresEnvironment* Get() {
    static PostgresEnvironment* env = [] {
      auto* e = new PostgresEnvironment();
      ::testing::AddGlobalTestEnvironment(e);  // gtest owns it and calls TearDown.
      return e;
    }();
    return env;
  }

  absl::StatusOr<kt::PostgresServer*> Server() {
    absl::MutexLock lock(&mu_);
    if (!started_) {
      started_ = true;
      const absl::Time start = absl::Now();
      absl::StatusOr<std::unique_ptr<kt::PostgresServer>> server = kt::PostgresServer::Start();
      if (server.ok()) {
        server_ = *std::move(server);
        std::fprintf(stderr, "[postgres] started on port %d in %s\n", server_->port(),
                     absl::FormatDuration(absl::Now() - start).c_str());
      } else {
        status_ = server.status();
      }
    }
    if (!status_.ok()) return status_;
    return server_.get();
  }

  void TearDown() override {
    absl::MutexLock lock(&mu_);
    server_.reset();
  }

 private:
  absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<kt::PostgresServer> server_ ABSL_GUARDED_BY(mu_);
};

// Registered before main() runs the tests.
[[maybe_unused]] PostgresEnvironment* const kPostgresEnvironment = PostgresEnvironment::Get();

// ---------------------------------------------------------------------------------

enum class Backend { kSqliteFile, kSqliteMemory, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kSqliteFile:
      return "SqliteFile";
    case Backend::kSqliteMemory:
      return "SqliteMemory";
    case Backend::kPostgres:
      return "Postgres";
  }
  return "Unknown";
}

db::TransactionOptions ReadOnly() {
  db::TransactionOptions options;
  options.read_only = true;
  return options;
}

absl::Status Script(db::Database& database, absl::string_view sql) {
  return database.InTransaction([&](db::Transaction& tx) { return tx.ExecuteScript(sql); });
}

absl::StatusOr<int64_t> Count(db::Database& database, absl::string_view table) {
  int64_t n = -1;
  absl::Status s = database.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        absl::StatusOr<db::Row> row = tx.QueryOne(absl::StrCat("SELECT COUNT(*) FROM ", table));
        if (!row.ok()) return row.status();
        n = row->GetInt(0);
        return absl::OkStatus();
      },
      ReadOnly());
  if (!s.ok()) return s;
  return n;
}

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    switch (GetParam()) {
      case Backend::kSqliteFile: {
        ASSERT_OK_AND_ASSIGN(dir_, kt::TempDir::Create("db-test"));
        url_ = "sqlite:" + dir_->Join("test.db");
        break;
      }
      case Backend::kSqliteMemory:
        url_ = "sqlite::memory:";
        break;
      case Backend::kPostgres: {
        absl::StatusOr<kt::PostgresServer*> server = PostgresEnvironment::Get()->Server();
        ASSERT_TRUE(server.ok()) << server.status();
        server_ = *server;
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        ASSERT_OK_AND_ASSIGN(url_, server_->CreateUniqueDatabase(info->name()));
        break;
      }
    }
    ASSERT_OK_AND_ASSIGN(db_, db::Open(url_, Options()));
  }

  // NORMAL: WAL commits without an fsync each, so the suite's speed does not depend on
  // how busy the disk is. (Durability across power loss is SQLite's business.)
  static db::DatabaseOptions Options() {
    db::DatabaseOptions options;
    options.sqlite_synchronous = "NORMAL";
    return options;
  }

  bool IsPostgres() const { return GetParam() == Backend::kPostgres; }
  bool IsMemory() const { return GetParam() == Backend::kSqliteMemory; }
  std::string BlobType() const { return IsPostgres() ? "BYTEA" : "BLOB"; }

  // A second, independent Database on the same data (not possible for :memory:).
  absl::StatusOr<std::unique_ptr<db::Database>> OpenAnother(
      db::DatabaseOptions options = Options()) {
    return db::Open(url_, options);
  }

  // A Database of one connection on the same data (:memory: gets a fresh one).
  absl::StatusOr<std::unique_ptr<db::Database>> OpenOneConnection() {
    db::DatabaseOptions options = Options();
    options.pool_size = 1;
    if (IsMemory()) return db::Open("sqlite::memory:", options);
    return OpenAnother(options);
  }

  std::unique_ptr<kt::TempDir> dir_;
  kt::PostgresServer* server_ = nullptr;
  std::string url_;
  std::unique_ptr<db::Database> db_;
};

TEST_P(DatabaseTest, PingAndDialect) {
  EXPECT_OK(db_->Ping());
  EXPECT_EQ(db_->dialect(), IsPostgres() ? db::Dialect::kPostgres : db::Dialect::kSqlite);
}

// Vacuum runs outside any transaction and gives a table's deleted rows back: on PostgreSQL
// the emptied table then holds no page (with truncate); SQLite has nothing to do. A name
// that is not a plain table name is refused before anything runs.
TEST_P(DatabaseTest, VacuumGivesDeletedRowsBackAndTakesPlainTableNamesOnly) {
  ASSERT_OK(Script(*db_, "CREATE TABLE queue_1 (id BIGINT PRIMARY KEY, body TEXT)"));
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    for (int64_t i = 0; i < 2000; ++i) {
      auto inserted =
          tx.Execute("INSERT INTO queue_1 (id, body) VALUES (?, ?)", {i, std::string(100, 'x')});
      if (!inserted.ok()) return inserted.status();
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(db_->InTransaction(
      [&](db::Transaction& tx) { return tx.Execute("DELETE FROM queue_1").status(); }));
  auto pages = [&]() -> absl::StatusOr<int64_t> {
    int64_t size = 0;
    absl::Status read = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne("SELECT pg_relation_size('queue_1')");
      if (!row.ok()) return row.status();
      size = row->GetInt(0);
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
    return size;
  };
  if (IsPostgres()) {
    ASSERT_OK_AND_ASSIGN(int64_t before, pages());
    EXPECT_GT(before, 0);
  }
  EXPECT_OK(db_->Vacuum("queue_1", /*truncate=*/false));
  EXPECT_OK(db_->Vacuum("queue_1", /*truncate=*/true));
  if (IsPostgres()) {
    ASSERT_OK_AND_ASSIGN(int64_t after, pages());
    EXPECT_EQ(after, 0);
    EXPECT_EQ(db_->Vacuum("queue_1; DROP TABLE queue_1", true).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(db_->Vacuum("", true).code(), absl::StatusCode::kInvalidArgument);
  }
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "queue_1"));
  EXPECT_EQ(count, 0);
}

TEST_P(DatabaseTest, RoundTripsEveryValueType) {
  ASSERT_OK(Script(*db_, absl::StrCat("CREATE TABLE items (id BIGINT PRIMARY KEY, i BIGINT, "
                                      "d DOUBLE PRECISION, s TEXT, b ",
                                      BlobType(), ")")));
  const std::string thai = "สมชาย";
  const std::string indonesian = "Budi Santoso — Jl. Merdeka No. 17, Bandung, Rp 150.000 ✓";
  const std::string nul_bytes("\0a\0\xff\x01\x00z", 7);
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();

  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    const std::string sql = "INSERT INTO items (id, i, d, s, b) VALUES (?, ?, ?, ?, ?)";
    for (const std::vector<db::Value>& params : std::vector<std::vector<db::Value>>{
             {int64_t{1}, kMax, 3.141592653589793, thai, db::Bytes{nul_bytes}},
             {int64_t{2}, kMin, -1.5e300, indonesian, db::Bytes{""}},
             {int64_t{3}, db::Null(), db::Null(), db::Null(), db::Null()},
             {int64_t{4}, int64_t{0}, 0.1, std::string(""), db::Bytes{all_bytes}},
         }) {
      absl::StatusOr<int64_t> n = tx.Execute(sql, params);
      if (!n.ok()) return n.status();
      if (*n != 1) return absl::InternalError(absl::StrCat("inserted ", *n));
    }
    return absl::OkStatus();
  }));

  db::Rows rows;
  ASSERT_OK(db_->InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        absl::StatusOr<db::Rows> r = tx.Query("SELECT id, i, d, s, b FROM items ORDER BY id");
        if (!r.ok()) return r.status();
        rows = *std::move(r);
        return absl::OkStatus();
      },
      ReadOnly()));
  ASSERT_EQ(rows.size(), 4u);

  EXPECT_EQ(rows[0].GetInt(0), 1);
  EXPECT_EQ(rows[0].GetInt(1), kMax);
  EXPECT_TRUE(std::holds_alternative<int64_t>(rows[0].cell(1)));
  EXPECT_EQ(rows[0].GetDouble(2), 3.141592653589793);
  EXPECT_TRUE(std::holds_alternative<double>(rows[0].cell(2)));
  EXPECT_EQ(rows[0].GetText(3), thai);
  EXPECT_TRUE(std::holds_alternative<std::string>(rows[0].cell(3)));
  EXPECT_EQ(rows[0].GetBytes(4), nul_bytes);
  EXPECT_TRUE(std::holds_alternative<db::Bytes>(rows[0].cell(4)));

  EXPECT_EQ(rows[1].GetInt(1), kMin);
  EXPECT_EQ(rows[1].GetDouble(2), -1.5e300);
  EXPECT_EQ(rows[1].GetText(3), indonesian);
  EXPECT_EQ(rows[1].GetBytes(4), "");
  EXPECT_FALSE(rows[1].IsNull(4));

  for (size_t c = 1; c <= 4; ++c) EXPECT_TRUE(rows[2].IsNull(c)) << c;
  EXPECT_EQ(rows[2].GetOptionalInt(1), std::nullopt);
  EXPECT_EQ(rows[2].GetOptionalDouble(2), std::nullopt);
  EXPECT_EQ(rows[2].GetOptionalText(3), std::nullopt);
  EXPECT_EQ(rows[2].GetOptionalBytes(4), std::nullopt);
  EXPECT_EQ(rows[2].GetInt(1), 0);
  EXPECT_EQ(rows[2].GetText(3), "");

  EXPECT_EQ(rows[3].GetOptionalInt(1), 0);
  EXPECT_EQ(rows[3].GetDouble(2), 0.1);
  EXPECT_EQ(rows[3].GetOptionalText(3), "");
  EXPECT_EQ(rows[3].GetBytes(4), all_bytes);

  // Update and delete report the rows they changed; parameters round-trip in SELECT.
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<int64_t> n = tx.Execute("UPDATE items SET s = ? WHERE id = ? OR id = ?",
                                           {thai + "!", int64_t{2}, int64_t{3}});
    if (!n.ok()) return n.status();
    EXPECT_EQ(*n, 2);
    n = tx.Execute("DELETE FROM items WHERE id = ?", {int64_t{4}});
    if (!n.ok()) return n.status();
    EXPECT_EQ(*n, 1);
    n = tx.Execute("DELETE FROM items WHERE id = ?", {int64_t{99}});
    if (!n.ok()) return n.status();
    EXPECT_EQ(*n, 0);
    absl::StatusOr<db::Row> row =
        tx.QueryOne("SELECT ?, ?, ?, ?", {kMin, 2.5, indonesian, db::Bytes{nul_bytes}});
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetInt(0), kMin);
    EXPECT_EQ(row->GetDouble(1), 2.5);
    EXPECT_EQ(row->GetText(2), indonesian);
    EXPECT_EQ(row->GetBytes(3), nul_bytes);
    absl::StatusOr<db::Row> missing =
        tx.QueryOne("SELECT id FROM items WHERE id = ?", {int64_t{99}});
    EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "items"));
  EXPECT_EQ(count, 3);
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT s FROM items WHERE id = 3");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetText(0), thai + "!");
    return absl::OkStatus();
  }));
}

TEST_P(DatabaseTest, PlaceholdersInsideLiteralsAndCommentsAreNotParameters) {
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row =
        tx.QueryOne("SELECT '?' AS a, /* what? */ ? AS b, 'it''s ?' AS c, ? AS d -- really?\n",
                    {std::string("x"), int64_t{7}});
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetText(0), "?");
    EXPECT_EQ(row->GetText(1), "x");
    EXPECT_EQ(row->GetText(2), "it's ?");
    EXPECT_EQ(row->GetInt(3), 7);
    return absl::OkStatus();
  }));
}

TEST_P(DatabaseTest, WrongParameterCountIsInternal) {
  absl::Status s = db_->InTransaction(
      [&](db::Transaction& tx) { return tx.Query("SELECT ?, ?", {int64_t{1}}).status(); });
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "2 placeholders")) << s;
}

TEST_P(DatabaseTest, BadSqlIsInternalWithTheDatabaseMessage) {
  absl::Status s =
      db_->InTransaction([&](db::Transaction& tx) { return tx.Query("SELEC 1").status(); });
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "syntax error")) << s;
  // The connection is still usable afterwards.
  EXPECT_OK(db_->Ping());
}

TEST_P(DatabaseTest, RollbackOnFunctionErrorLeavesNothing) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  int after_commit = 0;
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    tx.AfterCommit([&] { ++after_commit; });
    for (int64_t id : {1, 2}) {
      absl::StatusOr<int64_t> n = tx.Execute("INSERT INTO t (id) VALUES (?)", {id});
      if (!n.ok()) return n.status();
    }
    return absl::FailedPreconditionError("customer is sealed");
  });
  // Passed through unchanged.
  EXPECT_EQ(s, absl::FailedPreconditionError("customer is sealed"));
  EXPECT_EQ(after_commit, 0);
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "t"));
  EXPECT_EQ(count, 0);
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExistsNamingTheIndex) {
  ASSERT_OK(Script(*db_,
                   "CREATE TABLE customers (id BIGINT PRIMARY KEY, phone TEXT NOT NULL);"
                   "CREATE UNIQUE INDEX customers_phone_key ON customers (phone)"));
  auto insert = [&](int64_t id, std::string phone) {
    return db_->InTransaction([&](db::Transaction& tx) {
      return tx.Execute("INSERT INTO customers (id, phone) VALUES (?, ?)", {id, phone}).status();
    });
  };
  ASSERT_OK(insert(1, "+6281234567890"));
  absl::Status s = insert(2, "+6281234567890");
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "customers_phone_key")) << s;
  s = insert(1, "+66812345678");
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "customers"));
  EXPECT_EQ(count, 1);
}

// Deferred statements (pipelined on PostgreSQL, run at once on SQLite): their effects are
// seen by later statements, their errors come out at the latest at Sync or the commit, and
// a failed one fails exactly the work it belongs to.
TEST_P(DatabaseTest, DeferredStatementsAreSeenByLaterStatementsAndCommitted) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"));
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    // More than a pipeline holds before it is read, under different statement texts.
    for (int64_t id = 1; id <= 700; ++id) {
      const char* sql = id % 2 == 0 ? "INSERT INTO t (id, name) VALUES (?, ?)"
                                    : "INSERT INTO t (name, id) VALUES (?, ?)";
      absl::Status s = id % 2 == 0 ? tx.ExecuteDeferred(sql, {id, absl::StrCat("n", id)})
                                   : tx.ExecuteDeferred(sql, {absl::StrCat("n", id), id});
      if (!s.ok()) return s;
    }
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT COUNT(*), MAX(name) FROM t");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetInt(0), 700);
    EXPECT_EQ(row->GetText(1), "n99");
    // Deferred statements left at the end are settled by the commit.
    return tx.ExecuteDeferred("UPDATE t SET name = ? WHERE id = ?", {"last", int64_t{700}});
  }));
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT name FROM t WHERE id = 700");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetText(0), "last");
    return absl::OkStatus();
  }));
}

TEST_P(DatabaseTest, DeferredErrorFailsTheTransactionEvenIfNobodyWaitsForIt) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    (void)tx.ExecuteDeferred("INSERT INTO t (id) VALUES (1)");
    (void)tx.ExecuteDeferred("INSERT INTO t (id) VALUES (1)");  // duplicate key
    (void)tx.ExecuteDeferred("INSERT INTO t (id) VALUES (2)");
    return absl::OkStatus();  // ignores what the deferred statements answered
  });
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "t"));
  EXPECT_EQ(count, 0);
  // The connection is fine afterwards.
  ASSERT_OK(db_->InTransaction(
      [&](db::Transaction& tx) { return tx.Execute("INSERT INTO t (id) VALUES (3)").status(); }));
  ASSERT_OK_AND_ASSIGN(count, Count(*db_, "t"));
  EXPECT_EQ(count, 1);
}

TEST_P(DatabaseTest, AQueryAfterAFailedDeferredStatementReportsThatError) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto sent = tx.ExecuteDeferred("INSERT INTO t (id) VALUES (1)"); !sent.ok()) return sent;
    if (auto sent = tx.ExecuteDeferred("INSERT INTO t (id) VALUES (1)"); !sent.ok()) return sent;
    absl::StatusOr<db::Rows> rows = tx.Query("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(absl::IsAlreadyExists(rows.status())) << rows.status();
    return rows.status();
  });
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "t"));
  EXPECT_EQ(count, 0);
}

TEST_P(DatabaseTest, DeferredErrorInsideASavepointRollsBackOnlyTheSavepoint) {
  ASSERT_OK(Script(*db_,
                   "CREATE TABLE t (id BIGINT PRIMARY KEY, phone TEXT NOT NULL);"
                   "CREATE UNIQUE INDEX t_phone_key ON t (phone)"));
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto s = tx.ExecuteDeferred("INSERT INTO t (id, phone) VALUES (1, '+62811')"); !s.ok()) {
      return s;
    }
    if (auto s = tx.ExecuteDeferred("SAVEPOINT row"); !s.ok()) return s;
    absl::Status row = tx.ExecuteDeferred("INSERT INTO t (id, phone) VALUES (2, '+62811')");
    if (row.ok()) row = tx.ExecuteDeferred("INSERT INTO t (id, phone) VALUES (3, '+62813')");
    if (row.ok()) row = tx.Sync();
    EXPECT_TRUE(absl::IsAlreadyExists(row)) << row;
    EXPECT_TRUE(absl::StrContains(row.message(), "t_phone_key")) << row;
    if (auto s = tx.Execute("ROLLBACK TO SAVEPOINT row").status(); !s.ok()) return s;
    if (auto s = tx.Execute("RELEASE SAVEPOINT row").status(); !s.ok()) return s;
    return tx.ExecuteDeferred("INSERT INTO t (id, phone) VALUES (4, '+62814')");
  }));
  std::vector<int64_t> ids;
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows = tx.Query("SELECT id FROM t ORDER BY id");
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) ids.push_back(r.GetInt(0));
    return absl::OkStatus();
  }));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 4}));
}

TEST_P(DatabaseTest, DeferredBadStatementIsInternalEveryTimeAndLeavesOthersWorking) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      absl::Status sent =
          tx.ExecuteDeferred("INSERT INTO no_such_table (id) VALUES (?)", {int64_t{attempt}});
      if (!sent.ok()) return sent;
      return tx.Sync();
    });
    EXPECT_TRUE(absl::IsInternal(s)) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "no_such_table")) << s;
  }
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto s = tx.ExecuteDeferred("INSERT INTO t (id) VALUES (?)", {int64_t{1}}); !s.ok()) {
      return s;
    }
    return tx.Sync();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "t"));
  EXPECT_EQ(count, 1);
}

TEST_P(DatabaseTest, OtherConstraintViolationsAreFailedPrecondition) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"));
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
    return tx.Execute("INSERT INTO t (id, name) VALUES (?, ?)", {int64_t{1}, db::Null()}).status();
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
}

TEST_P(DatabaseTest, ReadOnlyTransactionRefusesWrites) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  absl::Status s = db_->InTransaction(
      [&](db::Transaction& tx) { return tx.Execute("INSERT INTO t (id) VALUES (1)").status(); },
      ReadOnly());
  EXPECT_FALSE(s.ok());
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*db_, "t"));
  EXPECT_EQ(count, 0);
}

TEST_P(DatabaseTest, ConcurrentIncrementsAreExact) {
  ASSERT_OK(Script(*db_,
                   "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
                   "INSERT INTO counter (id, n) VALUES (1, 0)"));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> attempts{0};
  std::atomic<int> committed{0};
  std::atomic<int> failures{0};
  absl::Mutex mu;
  absl::Status first_failure;
  // Read-modify-write: only correct if transactions are isolated (SQLite: one writer;
  // PostgreSQL: SERIALIZABLE, so conflicts abort with 40001 and are retried).
  db::TransactionOptions options;
  options.serializable = true;
  options.max_attempts = 1000;
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = db_->InTransaction(
            [&](db::Transaction& tx) -> absl::Status {
              ++attempts;
              tx.AfterCommit([&] { ++committed; });
              absl::StatusOr<db::Row> row = tx.QueryOne("SELECT n FROM counter WHERE id = 1");
              if (!row.ok()) return row.status();
              return tx.Execute("UPDATE counter SET n = ? WHERE id = 1", {row->GetInt(0) + 1})
                  .status();
            },
            options);
        if (!s.ok()) {
          ++failures;
          absl::MutexLock lock(&mu);
          if (first_failure.ok()) first_failure = s;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::fprintf(stderr, "%d transactions, %d attempts, %s\n", kThreads * kPerThread, attempts.load(),
               absl::FormatDuration(absl::Now() - start).c_str());
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(committed.load(), kThreads * kPerThread);
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT n FROM counter WHERE id = 1");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetInt(0), kThreads * kPerThread);
    return absl::OkStatus();
  }));
}

// Holds the write lock of a SQLite file from another Database object (as another
// process would) until released.
class SqliteLockHolder {
 public:
  explicit SqliteLockHolder(db::Database& other) {
    thread_ = std::thread([this, &other] {
      status_ = other.InTransaction([this](db::Transaction& tx) -> absl::Status {
        absl::StatusOr<int64_t> n = tx.Execute("UPDATE counter SET n = n + 1000 WHERE id = 1");
        if (!n.ok()) return n.status();
        locked_.Notify();
        release_.WaitForNotification();
        return absl::OkStatus();
      });
      if (!locked_.HasBeenNotified()) locked_.Notify();  // It failed before locking.
    });
    locked_.WaitForNotification();
  }
  ~SqliteLockHolder() { Release(); }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (thread_.joinable()) thread_.join();
  }
  const absl::Status& status() const { return status_; }

 private:
  absl::Notification locked_;
  absl::Notification release_;
  std::thread thread_;
  absl::Status status_;
};

TEST_P(DatabaseTest, ConflictIsRetriedAndAfterCommitRunsOnce) {
  if (IsMemory()) GTEST_SKIP() << "a private in-memory database has no second writer";
  ASSERT_OK(Script(*db_,
                   "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
                   "INSERT INTO counter (id, n) VALUES (1, 0)"));
  int attempts = 0;
  int after_commit = 0;
  if (IsPostgres()) {
    // Attempt 1 reads, then another transaction updates the row and commits, then
    // attempt 1's update fails with 40001. Attempt 2 succeeds.
    db::TransactionOptions options;
    options.serializable = true;
    ASSERT_OK(db_->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          ++attempts;
          tx.AfterCommit([&] { ++after_commit; });
          absl::StatusOr<db::Row> row = tx.QueryOne("SELECT n FROM counter WHERE id = 1");
          if (!row.ok()) return row.status();
          if (attempts == 1) {
            absl::Status other = db_->InTransaction([](db::Transaction& tx2) {
              return tx2.Execute("UPDATE counter SET n = n + 100 WHERE id = 1").status();
            });
            if (!other.ok()) return other;
          }
          return tx.Execute("UPDATE counter SET n = ? WHERE id = 1", {row->GetInt(0) + 1}).status();
        },
        options));
    EXPECT_EQ(attempts, 2);
  } else {
    // Another connection holds the write lock for a while; BEGIN IMMEDIATE reports BUSY
    // after the (short) busy timeout and the transaction is retried until it gets in.
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> other, OpenAnother());
    db::DatabaseOptions short_busy = Options();
    short_busy.busy_timeout = absl::Milliseconds(20);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> impatient, OpenAnother(short_busy));
    SqliteLockHolder holder(*other);
    std::thread releaser([&] {
      absl::SleepFor(absl::Milliseconds(300));
      holder.Release();
    });
    db::TransactionOptions options;
    options.max_attempts = 100;
    absl::Status s = impatient->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          ++attempts;
          tx.AfterCommit([&] { ++after_commit; });
          return tx.Execute("UPDATE counter SET n = n + 1 WHERE id = 1").status();
        },
        options);
    releaser.join();
    ASSERT_OK(holder.status());
    ASSERT_OK(s);
    EXPECT_EQ(attempts, 1) << "BEGIN IMMEDIATE failed, so fn should have run only once";
  }
  EXPECT_EQ(after_commit, 1);
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT n FROM counter WHERE id = 1");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetInt(0), IsPostgres() ? 101 : 1001);
    return absl::OkStatus();
  }));
}

TEST_P(DatabaseTest, ExhaustedRetriesAreAborted) {
  if (IsMemory()) GTEST_SKIP() << "a private in-memory database has no second writer";
  ASSERT_OK(Script(*db_,
                   "CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);"
                   "INSERT INTO counter (id, n) VALUES (1, 0)"));
  int after_commit = 0;
  db::TransactionOptions options;
  options.max_attempts = 3;
  options.serializable = true;
  absl::Status s;
  if (IsPostgres()) {
    s = db_->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          tx.AfterCommit([&] { ++after_commit; });
          absl::StatusOr<db::Row> row = tx.QueryOne("SELECT n FROM counter WHERE id = 1");
          if (!row.ok()) return row.status();
          absl::Status other = db_->InTransaction([](db::Transaction& tx2) {
            return tx2.Execute("UPDATE counter SET n = n + 100 WHERE id = 1").status();
          });
          if (!other.ok()) return other;
          return tx.Execute("UPDATE counter SET n = ? WHERE id = 1", {row->GetInt(0) + 1}).status();
        },
        options);
  } else {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> other, OpenAnother());
    db::DatabaseOptions short_busy = Options();
    short_busy.busy_timeout = absl::Milliseconds(10);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> impatient, OpenAnother(short_busy));
    SqliteLockHolder holder(*other);
    s = impatient->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          tx.AfterCommit([&] { ++after_commit; });
          return tx.Execute("UPDATE counter SET n = n + 1 WHERE id = 1").status();
        },
        options);
  }
  EXPECT_TRUE(absl::IsAborted(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "3 attempts")) << s;
  EXPECT_EQ(after_commit, 0);
}

TEST_P(DatabaseTest, AfterCommitRunsAfterTheDataIsVisible) {
  ASSERT_OK(Script(*db_, "CREATE TABLE t (id BIGINT PRIMARY KEY)"));
  int64_t seen = -1;
  int calls = 0;
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    tx.AfterCommit([&] {
      ++calls;
      absl::StatusOr<int64_t> n = Count(*db_, "t");  // The connection is back in the pool.
      seen = n.ok() ? *n : -2;
    });
    return tx.Execute("INSERT INTO t (id) VALUES (1)").status();
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 1);
}

TEST_P(DatabaseTest, NestedTransactionsThatWouldDeadlockFailFast) {
  if (IsPostgres()) GTEST_SKIP() << "PostgreSQL runs a nested call on a second connection";
  const absl::Time start = absl::Now();
  absl::Status inner;
  ASSERT_OK(db_->InTransaction([&](db::Transaction&) {
    inner = db_->InTransaction([](db::Transaction&) { return absl::OkStatus(); });
    return absl::OkStatus();
  }));
  EXPECT_TRUE(absl::IsInternal(inner)) << inner;
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // A read inside a write is fine on a file (WAL reader on another connection).
  if (!IsMemory()) {
    ASSERT_OK(db_->InTransaction([&](db::Transaction&) {
      return db_->InTransaction([](db::Transaction& tx) { return tx.Query("SELECT 1").status(); },
                                ReadOnly());
    }));
  }
}

TEST_P(DatabaseTest, PoolTimeoutIsUnavailable) {
  db::DatabaseOptions options = Options();
  options.pool_size = 1;
  options.acquire_timeout = absl::Milliseconds(100);
  std::unique_ptr<db::Database> small;
  if (IsMemory()) {
    ASSERT_OK_AND_ASSIGN(small, db::Open("sqlite::memory:", options));
  } else {
    ASSERT_OK_AND_ASSIGN(small, OpenAnother(options));
  }
  absl::Notification inside;
  absl::Notification done;
  std::thread holder([&] {
    small
        ->InTransaction(
            [&](db::Transaction&) {
              inside.Notify();
              done.WaitForNotification();
              return absl::OkStatus();
            },
            ReadOnly())
        .IgnoreError();
  });
  inside.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::Status s =
      small->InTransaction([](db::Transaction&) { return absl::OkStatus(); }, ReadOnly());
  const absl::Duration waited = absl::Now() - start;
  done.Notify();
  holder.join();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_GE(waited, absl::Milliseconds(90));
  EXPECT_LT(waited, absl::Seconds(2));
}

// Reads and writes take turns on one connection: each read sees the write before it (on
// PostgreSQL a read-only transaction's COMMIT is not waited for; the connection's next user
// reads its answer). A read that went on after a failed statement is still refused there.
TEST_P(DatabaseTest, ReadsAndWritesTakeTurnsOnOneConnection) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> one, OpenOneConnection());
  ASSERT_OK(Script(*one, "CREATE TABLE turns (id BIGINT PRIMARY KEY)"));
  for (int64_t i = 0; i < 40; ++i) {
    ASSERT_OK(one->InTransaction([&](db::Transaction& tx) {
      return tx.Execute("INSERT INTO turns (id) VALUES (?)", {i}).status();
    }));
    for (int read = 0; read < 2; ++read) {  // read-only transactions back to back, too
      ASSERT_OK_AND_ASSIGN(int64_t count, Count(*one, "turns"));
      EXPECT_EQ(count, i + 1);
    }
  }
  absl::Status ignored = one->InTransaction(
      [&](db::Transaction& tx) {
        tx.Query("SELECT no_such_column FROM turns").status().IgnoreError();
        return absl::OkStatus();
      },
      ReadOnly());
  if (IsPostgres()) {
    EXPECT_TRUE(absl::IsInternal(ignored)) << ignored;
  }
  ASSERT_OK_AND_ASSIGN(int64_t count, Count(*one, "turns"));
  EXPECT_EQ(count, 40);
}

// A page's row limit written into the statement (db::LimitAtLeast) pages as a bound one
// would, and on PostgreSQL lets the connection keep one generic plan for the statement
// instead of planning it at every execution (with `LIMIT ?` PostgreSQL never does: a
// generic plan cannot know the limit; this test fails with the limit bound, checked). Read
// through pg_prepared_statements, which shows the statements of the session it is asked in:
// one connection here.
TEST_P(DatabaseTest, PageLimitInTheStatementKeepsOnePlan) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> one, OpenOneConnection());
  ASSERT_OK(Script(*one,
                   "CREATE TABLE pages (tenant TEXT NOT NULL, k TEXT NOT NULL, id BIGINT NOT NULL, "
                   "PRIMARY KEY (tenant, k, id))"));
  // Enough rows that a plan for "10 % of them" (what a generic plan assumes of a bound
  // limit) costs more than one for the 21 asked for.
  ASSERT_OK(Script(*one,
                   "INSERT INTO pages (tenant, k, id) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
                   "SELECT i + 1 FROM n WHERE i < 19999) SELECT CASE WHEN i % 4 = 0 THEN 'small' "
                   "ELSE 'large' END, 'k' || (50000 - i), i FROM n; ANALYZE pages"));
  const std::string sql =
      absl::StrCat("SELECT id FROM pages WHERE tenant = ? ORDER BY k, id", db::LimitAtLeast(21));
  for (int run = 0; run < 10; ++run) {
    const std::string tenant = run % 2 == 0 ? "large" : "small";
    std::vector<int64_t> ids;
    ASSERT_OK(one->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          ids.clear();
          auto rows = tx.Query(sql, {tenant});
          if (!rows.ok()) return rows.status();
          for (const db::Row& row : *rows) ids.push_back(row.GetInt(0));
          return absl::OkStatus();
        },
        ReadOnly()));
    // The highest ids have the lowest keys ("k" + (50000 - id), five digits).
    ASSERT_EQ(ids.size(), 21u) << tenant;
    EXPECT_EQ(ids.front(), tenant == "large" ? 19999 : 19996) << tenant;
    EXPECT_EQ(ids.back(), tenant == "large" ? 19973 : 19916) << tenant;
  }
  if (!IsPostgres()) return;
  int64_t generic_plans = -1;
  ASSERT_OK(one->InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto rows = tx.Query(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE "
            "'SELECT id FROM pages WHERE tenant = $1%'");
        if (!rows.ok()) return rows.status();
        if (rows->size() != 1) return absl::InternalError("the page statement is not prepared");
        generic_plans = (*rows)[0].GetInt(0);
        return absl::OkStatus();
      },
      ReadOnly()));
  EXPECT_GE(generic_plans, 1);
}

std::vector<db::Migration> TestMigrations(int up_to) {
  std::vector<db::Migration> all = {
      {1, "create items", "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL)", ""},
      {2, "seed items", "INSERT INTO items (id, name) VALUES (1, 'seed')", ""},
      // No PostgreSQL script: BLOB is spelled BYTEA for it (a column named blob_note stays).
      {3, "add blobs",
       "CREATE TABLE blobs (id BIGINT PRIMARY KEY, b BLOB, blob_note TEXT); "
       "CREATE INDEX blobs_b ON blobs (id)",
       ""},
  };
  all.resize(up_to);
  return all;
}

TEST_P(DatabaseTest, MigrationsApplyOnceAndAreIdempotent) {
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(2)));
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(2)));  // no-op
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(3)));  // only 3
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(3)));
  ASSERT_OK_AND_ASSIGN(int64_t items, Count(*db_, "items"));
  EXPECT_EQ(items, 1);  // The seed migration ran once.
  ASSERT_OK(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Rows> rows =
        tx.Query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->size(), 3u);
    for (size_t i = 0; i < rows->size(); ++i) {
      EXPECT_EQ((*rows)[i].GetInt(0), static_cast<int64_t>(i + 1));
      EXPECT_FALSE((*rows)[i].GetText(2).empty());
    }
    EXPECT_EQ((*rows)[1].GetText(1), "seed items");
    // The dialect-specific script ran: blob column works.
    return tx.Execute("INSERT INTO blobs (id, b) VALUES (?, ?)", {int64_t{1}, db::Bytes{"\0x"}})
        .status();
  }));
}

TEST_P(DatabaseTest, MigrationsRefuseANewerDatabase) {
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(3)));
  absl::Status s = db::ApplyMigrations(*db_, TestMigrations(2));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "version 3")) << s;
}

TEST_P(DatabaseTest, FailedMigrationRollsBackOnlyItself) {
  std::vector<db::Migration> migrations = TestMigrations(1);
  migrations.push_back({2, "broken", "CREATE TABLE half (id BIGINT); SELEC oops", ""});
  absl::Status s = db::ApplyMigrations(*db_, migrations);
  EXPECT_TRUE(absl::IsInternal(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "migration 2 (broken)")) << s;
  EXPECT_FALSE(Count(*db_, "half").ok()) << "the failed migration's DDL must be rolled back";
  ASSERT_OK_AND_ASSIGN(int64_t versions, Count(*db_, "schema_migrations"));
  EXPECT_EQ(versions, 1);
  ASSERT_OK(db::ApplyMigrations(*db_, TestMigrations(3)));
  ASSERT_OK_AND_ASSIGN(versions, Count(*db_, "schema_migrations"));
  EXPECT_EQ(versions, 3);
}

TEST_P(DatabaseTest, InvalidMigrationListIsInvalidArgument) {
  std::vector<db::Migration> migrations = TestMigrations(3);
  std::swap(migrations[0], migrations[1]);
  EXPECT_TRUE(absl::IsInvalidArgument(db::ApplyMigrations(*db_, migrations)));
}

TEST_P(DatabaseTest, ConcurrentApplyMigrationsAreSafe) {
  // Two "replicas" starting at once (for :memory:, two threads on one Database).
  std::unique_ptr<db::Database> second;
  if (!IsMemory()) {
    ASSERT_OK_AND_ASSIGN(second, OpenAnother());
  }
  db::Database* replicas[2] = {db_.get(), second != nullptr ? second.get() : db_.get()};
  absl::Status results[2];
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = db::ApplyMigrations(*replicas[i], TestMigrations(3)); });
  }
  for (auto& t : threads) t.join();
  EXPECT_OK(results[0]);
  EXPECT_OK(results[1]);
  ASSERT_OK_AND_ASSIGN(int64_t items, Count(*db_, "items"));
  EXPECT_EQ(items, 1);
  ASSERT_OK_AND_ASSIGN(int64_t versions, Count(*db_, "schema_migrations"));
  EXPECT_EQ(versions, 3);
}

INSTANTIATE_TEST_SUITE_P(AllDrivers, DatabaseTest,
                         ::testing::Values(Backend::kSqliteFile, Backend::kSqliteMemory,
                                           Backend::kPostgres),
                         BackendName);

// ---------------------------------------------------------------------------------
// Driver-specific behaviour.

TEST(KeyLastTest, TheKeyMovesBehindTheOtherColumnsInOrder) {
  const std::vector<db::Value> updated =
      db::KeyLast({std::string("t1"), std::string("c1"), int64_t{7}, std::string("x")}, 2);
  ASSERT_EQ(updated.size(), 4u);
  EXPECT_EQ(std::get<int64_t>(updated[0]), 7);
  EXPECT_EQ(std::get<std::string>(updated[1]), "x");
  EXPECT_EQ(std::get<std::string>(updated[2]), "t1");
  EXPECT_EQ(std::get<std::string>(updated[3]), "c1");
}

TEST(LimitAtLeastTest, AHandfulOfLimitsEachAtLeastTheRowsAskedFor) {
  EXPECT_EQ(db::LimitAtLeast(1), " LIMIT 2");
  EXPECT_EQ(db::LimitAtLeast(2), " LIMIT 2");
  EXPECT_EQ(db::LimitAtLeast(3), " LIMIT 11");
  EXPECT_EQ(db::LimitAtLeast(21), " LIMIT 21");
  EXPECT_EQ(db::LimitAtLeast(22), " LIMIT 51");
  EXPECT_EQ(db::LimitAtLeast(501), " LIMIT 501");
  EXPECT_EQ(db::LimitAtLeast(502), " LIMIT 1001");
  EXPECT_EQ(db::LimitAtLeast(1001), " LIMIT 1001");
  EXPECT_EQ(db::LimitAtLeast(1002), " LIMIT 1501");
}

TEST(OpenTest, MalformedUrlsAreInvalidArgument) {
  for (const char* url :
       {"", "sqlite:", "sqlite://", "mysql://localhost/db", "no-scheme-at-all", "http:x",
        "postgresql://localhost/db?no_such_option=1", "postgres://[::1/db"}) {
    absl::StatusOr<std::unique_ptr<db::Database>> opened = db::Open(url);
    EXPECT_TRUE(absl::IsInvalidArgument(opened.status())) << url << ": " << opened.status();
  }
  absl::StatusOr<std::unique_ptr<db::Database>> opened = db::Open("mysql://u:secret@h/db");
  EXPECT_TRUE(absl::StrContains(opened.status().message(), "\"mysql\"")) << opened.status();
  EXPECT_FALSE(absl::StrContains(opened.status().message(), "secret")) << opened.status();
}

TEST(OpenTest, InvalidOptionsAreInvalidArgument) {
  db::DatabaseOptions options;
  options.pool_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(db::Open("sqlite::memory:", options).status()));
  options = {};
  options.sqlite_synchronous = "SOMETIMES";
  EXPECT_TRUE(absl::IsInvalidArgument(db::Open("sqlite::memory:", options).status()));
}

TEST(OpenTest, UnreachablePostgresIsUnavailableQuickly) {
  absl::StatusOr<int> port = kt::PickFreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  db::DatabaseOptions options;
  options.connect_timeout = absl::Seconds(2);
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<db::Database>> opened =
      db::Open(absl::StrCat("postgres://kelola:pw@127.0.0.1:", *port, "/nothing"), options);
  EXPECT_TRUE(absl::IsUnavailable(opened.status())) << opened.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_FALSE(absl::StrContains(opened.status().message(), ":pw@")) << opened.status();
}

TEST(OpenTest, SqliteInMissingDirectoryIsUnavailable) {
  absl::StatusOr<std::unique_ptr<db::Database>> opened =
      db::Open("sqlite:/nonexistent-kelola-dir/x/y.db");
  EXPECT_TRUE(absl::IsUnavailable(opened.status())) << opened.status();
}

TEST(SqliteTest, DataSurvivesClosingAndReopening) {
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("db-reopen");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string url = "sqlite:" + (*dir)->Join("data.db");
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> database, db::Open(url));
    ASSERT_OK(db::ApplyMigrations(*database, TestMigrations(2)));
    ASSERT_OK(database->InTransaction([](db::Transaction& tx) {
      return tx.Execute("INSERT INTO items (id, name) VALUES (?, ?)", {int64_t{2}, "สมชาย"})
          .status();
    }));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> database, db::Open(url));
  ASSERT_OK(db::ApplyMigrations(*database, TestMigrations(2)));
  ASSERT_OK(database->InTransaction([](db::Transaction& tx) -> absl::Status {
    absl::StatusOr<db::Row> row = tx.QueryOne("SELECT name FROM items WHERE id = 2");
    if (!row.ok()) return row.status();
    EXPECT_EQ(row->GetText(0), "สมชาย");
    absl::StatusOr<db::Row> mode = tx.QueryOne("PRAGMA journal_mode");
    if (!mode.ok()) return mode.status();
    EXPECT_EQ(mode->GetText(0), "wal");
    return absl::OkStatus();
  }));
  ASSERT_OK_AND_ASSIGN(int64_t n, Count(*database, "items"));
  EXPECT_EQ(n, 2);
}

// The page cache (PRAGMA cache_size, in KiB) of the connection a transaction runs on.
absl::StatusOr<int64_t> CacheKib(db::Database& database, const db::TransactionOptions& options) {
  int64_t kib = 0;
  absl::Status s = database.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        absl::StatusOr<db::Row> row = tx.QueryOne("PRAGMA cache_size");
        if (!row.ok()) return row.status();
        kib = -row->GetInt(0);
        return absl::OkStatus();
      },
      options);
  if (!s.ok()) return s;
  return kib;
}

TEST(SqliteTest, WritesRunOnTheWriterConnectionWithItsLargerCache) {
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("db-writer");
  ASSERT_TRUE(dir.ok()) << dir.status();
  db::DatabaseOptions options;
  options.sqlite_cache_mib = 3;
  options.sqlite_writer_cache_mib = 7;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> database,
                       db::Open("sqlite:" + (*dir)->Join("w.db"), options));
  for (int i = 0; i < 3; ++i) {  // whichever pooled connection a read gets
    ASSERT_OK_AND_ASSIGN(int64_t reader_kib, CacheKib(*database, {.read_only = true}));
    EXPECT_EQ(reader_kib, 3 * 1024);
    ASSERT_OK_AND_ASSIGN(int64_t writer_kib, CacheKib(*database, {}));
    EXPECT_EQ(writer_kib, 7 * 1024);
  }
  options.sqlite_writer_cache_mib = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(db::Open("sqlite::memory:", options).status()));
}

// A bulk read (an export's scan) runs on a connection of its own with a small page cache;
// more concurrent bulk reads than those connections wait for one; a bulk write is refused.
TEST(SqliteTest, BulkReadsRunOnTheirOwnConnectionsWithASmallCache) {
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("db-bulk");
  ASSERT_TRUE(dir.ok()) << dir.status();
  db::DatabaseOptions options;
  options.sqlite_cache_mib = 3;
  options.sqlite_bulk_cache_mib = 1;
  options.sqlite_bulk_readers = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> database,
                       db::Open("sqlite:" + (*dir)->Join("b.db"), options));
  const db::TransactionOptions bulk{.read_only = true, .bulk_read = true};
  const db::TransactionOptions plain{.read_only = true};
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(int64_t bulk_kib, CacheKib(*database, bulk));
    EXPECT_EQ(bulk_kib, 1024);
    ASSERT_OK_AND_ASSIGN(int64_t plain_kib, CacheKib(*database, plain));
    EXPECT_EQ(plain_kib, 3 * 1024);
  }

  // Two bulk reads hold both connections; a third waits until one of them ends, then runs.
  absl::Mutex mu;
  int running = 0;
  bool third_ran = false;
  absl::Notification release;
  auto hold = [&](db::Transaction& tx) -> absl::Status {
    {
      absl::MutexLock lock(&mu);
      ++running;
    }
    release.WaitForNotification();
    return tx.QueryOne("SELECT 1").status();
  };
  std::vector<absl::Status> results(3);
  std::thread first([&] { results[0] = database->InTransaction(hold, bulk); });
  std::thread second([&] { results[1] = database->InTransaction(hold, bulk); });
  {
    absl::MutexLock lock(&mu);
    auto both = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu) { return running == 2; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&both), absl::Seconds(10)));
  }
  std::thread third([&] {
    results[2] = database->InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          {
            absl::MutexLock lock(&mu);
            third_ran = true;
          }
          return tx.QueryOne("SELECT 1").status();
        },
        bulk);
  });
  absl::SleepFor(absl::Milliseconds(200));
  {
    absl::MutexLock lock(&mu);
    EXPECT_FALSE(third_ran) << "a third bulk read ran beside two on a pool of two";
  }
  // An ordinary read is not held up by the bulk reads.
  absl::StatusOr<int64_t> plain_kib = CacheKib(*database, plain);
  EXPECT_TRUE(plain_kib.ok()) << plain_kib.status();
  release.Notify();
  first.join();
  second.join();
  third.join();
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(third_ran);

  absl::Status write =
      database->InTransaction([](db::Transaction& tx) { return tx.QueryOne("SELECT 1").status(); },
                              db::TransactionOptions{.bulk_read = true});
  EXPECT_TRUE(absl::IsInvalidArgument(write)) << write;
  absl::Status read =
      database->InTransaction([](db::Transaction& tx) { return tx.QueryOne("SELECT 1").status(); },
                              db::TransactionOptions{.read_only = true, .bulk_write = true});
  EXPECT_TRUE(absl::IsInvalidArgument(read)) << read;
  options.sqlite_bulk_readers = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(db::Open("sqlite::memory:", options).status()));
}

TEST(PostgresTest, RewritePlaceholders) {
  int n = 0;
  EXPECT_EQ(db::RewritePlaceholders("SELECT ?, ? FROM t WHERE a = ?", &n),
            "SELECT $1, $2 FROM t WHERE a = $3");
  EXPECT_EQ(n, 3);
  EXPECT_EQ(db::RewritePlaceholders("SELECT '?', 'it''s?', ?", &n), "SELECT '?', 'it''s?', $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(db::RewritePlaceholders(R"(SELECT E'\'?', "col?", ?)", &n),
            R"(SELECT E'\'?', "col?", $1)");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(db::RewritePlaceholders("SELECT $$ ? $$, $tag$ '? $tag$, ?", &n),
            "SELECT $$ ? $$, $tag$ '? $tag$, $1");
  EXPECT_EQ(n, 1);
  EXPECT_EQ(db::RewritePlaceholders("SELECT ? -- why?\n, /* a /* nested? */ ? */ ?", &n),
            "SELECT $1 -- why?\n, /* a /* nested? */ ? */ $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(db::RewritePlaceholders("SELECT x::text, ?", &n), "SELECT x::text, $1");
  EXPECT_EQ(n, 1);
}

TEST(PostgresTest, ReconnectsAfterTheServerDropsConnections) {
  absl::StatusOr<kt::PostgresServer*> server = PostgresEnvironment::Get()->Server();
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> url = (*server)->CreateUniqueDatabase("reconnect");
  ASSERT_TRUE(url.ok()) << url.status();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<db::Database> database, db::Open(*url));
  ASSERT_OK(database->Ping());
  ASSERT_OK((*server)->Execute("postgres",
                               "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname LIKE 'reconnect_%' AND pid <> pg_backend_pid()"));
  // The idle pooled connection is dead; BEGIN fails, the connection is reset and the
  // transaction runs on the fresh session.
  ASSERT_OK(
      database->InTransaction([](db::Transaction& tx) { return tx.Query("SELECT 1").status(); }));
  EXPECT_OK(database->Ping());
}

}  // namespace
