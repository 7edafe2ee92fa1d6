#include "libs/db/sqlite_checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/testing/temp_dir.h"
#include "tests/libs/db/raw_sqlite.h"

namespace kelola::db {
namespace {

constexpr int kThreshold = 64;  // pages

class SqliteCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-ckpt");
    ASSERT_TRUE(dir.ok());
    dir_ = *std::move(dir);
    path_ = absl::StrCat(dir_->path(), "/ckpt.db");
  }

  // A raw connection in WAL mode with a table of blobs, as the driver's writer would be.
  sqlite3* OpenWriter() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    Exec(db, "PRAGMA journal_mode=WAL");
    Exec(db, "PRAGMA synchronous=FULL");
    Exec(db, "CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
    return db;
  }
  static void Exec(sqlite3* db, const std::string& sql) { ExecRaw(db, sql); }
  // `count` transactions of one 8 KiB row each (two or three pages).
  static void Write(sqlite3* db, int count) {
    for (int i = 0; i < count; ++i) Exec(db, "INSERT INTO blobs (body) VALUES (zeroblob(8192))");
  }
  // Had anything woken the thread, its checkpoint would be done within this wait.
  static void ExpectNoBackgroundCheckpoint(const SqliteCheckpointer& checkpointer) {
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_EQ(checkpointer.background_checkpoints(), 0);
  }
  // The checkpointer's options these tests start from: kThreshold, no bulk threshold.
  static SqliteCheckpointerOptions Options() {
    SqliteCheckpointerOptions options;
    options.threshold_pages = kThreshold;
    return options;
  }
  // A checkpointer of the file whose bulk threshold is `bulk_threshold`, attached to
  // `writer`, its commits bulk ones.
  std::unique_ptr<SqliteCheckpointer> StartBulk(sqlite3* writer, int bulk_threshold) {
    SqliteCheckpointerOptions options = Options();
    options.bulk_threshold_pages = bulk_threshold;
    auto checkpointer = SqliteCheckpointer::Start(path_, options);
    EXPECT_TRUE(checkpointer.ok()) << checkpointer.status();
    if (!checkpointer.ok()) return nullptr;
    (*checkpointer)->Attach(writer);
    (*checkpointer)->SetBulkCommits(true);
    return *std::move(checkpointer);
  }
  // An open read transaction: no checkpoint can copy frames committed after its snapshot.
  // Ended by sqlite3_close.
  sqlite3* PinLog() {
    sqlite3* reader = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &reader), SQLITE_OK);
    Exec(reader, "BEGIN");
    Exec(reader, "SELECT COUNT(*) FROM blobs");
    return reader;
  }
  // Waits up to 10 s for the thread to have run `count` checkpoints; how many it ran.
  static int64_t AwaitBackground(const SqliteCheckpointer& checkpointer, int64_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (checkpointer.background_checkpoints() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return checkpointer.background_checkpoints();
  }
  // The database at path_, opened with `options`, with a table `rows (id, body)`.
  absl::StatusOr<std::unique_ptr<Database>> OpenWithRows(const DatabaseOptions& options,
                                                         const std::string& id_type) {
    auto db = Open(absl::StrCat("sqlite:", path_), options);
    if (!db.ok()) return db.status();
    const std::string table =
        absl::StrCat("CREATE TABLE rows (id ", id_type, " PRIMARY KEY, body BLOB NOT NULL)");
    if (absl::Status s = ApplyMigrations(**db, {{1, "rows", table, ""}}); !s.ok()) return s;
    return db;
  }
  // Frames in the log file (its header is 32 bytes, each frame's 24).
  int64_t LogFrames() const { return std::max<int64_t>(FileSize("-wal") - 32, 0) / (4096 + 24); }
  int64_t FileSize(const std::string& suffix) const {
    std::error_code error;
    const auto size = std::filesystem::file_size(path_ + suffix, error);
    return error ? 0 : static_cast<int64_t>(size);
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::string path_;
};

TEST_F(SqliteCheckpointerTest, TheThreadCopiesTheLogIntoTheFileAndTheWriterNeverDoes) {
  sqlite3* writer = OpenWriter();
  auto checkpointer = SqliteCheckpointer::Start(path_, Options());
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  (*checkpointer)->Attach(writer);
  for (int round = 0; round < 20; ++round) {
    Write(writer, 20);                       // about 50 pages
    absl::SleepFor(absl::Milliseconds(20));  // a writer slower than the copying
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*checkpointer)->background_checkpoints() < 5 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE((*checkpointer)->background_checkpoints(), 5);
  EXPECT_EQ((*checkpointer)->inline_checkpoints(), 0);
  // 400 rows of 8 KiB reached the file, and the log was started again instead of growing
  // to hold them all (3+ MiB).
  EXPECT_GT(FileSize(""), 3 << 20);
  EXPECT_LT(FileSize("-wal"), 2 << 20);
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, UnderSteadyWritesTheLogIsReusedInsteadOfGrowing) {
  sqlite3* writer = OpenWriter();
  auto checkpointer = SqliteCheckpointer::Start(path_, Options());
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  (*checkpointer)->Attach(writer);
  // No pause between commits: every background checkpoint ends with pages committed
  // meanwhile, which the thread copies again while they are many, and the next commit
  // copies the rest so that the log can start again.
  Write(writer, 2000);  // about 5,000 pages, 20 MiB
  EXPECT_GT((*checkpointer)->background_checkpoints(), 0);
  // The thread copied again what was committed during its passes.
  EXPECT_GT((*checkpointer)->follow_up_checkpoints(), 0);
  EXPECT_GT(FileSize(""), 15 << 20);
  EXPECT_LT(FileSize("-wal"), 4 << 20) << "the log grew instead of starting again";
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, AReaderPinningTheLogMakesCommitsCheckpointInline) {
  sqlite3* writer = OpenWriter();
  Write(writer, 1);
  auto checkpointer = SqliteCheckpointer::Start(path_, Options());
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  (*checkpointer)->Attach(writer);
  // The log pinned by a reader outgrows the backstop, and commits take their turn at
  // checkpointing.
  sqlite3* reader = PinLog();
  Write(writer, 4 * kThreshold / 2 + 10);  // past 4 × threshold pages
  EXPECT_GT((*checkpointer)->inline_checkpoints(), 0);
  sqlite3_close(reader);
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, BulkCommitsLeaveTheLogLongerUntilAnOrdinaryCommit) {
  sqlite3* writer = OpenWriter();
  auto checkpointer = StartBulk(writer, 16 * kThreshold);
  ASSERT_NE(checkpointer, nullptr);
  // Past four times the usual threshold, short of the bulk one.
  while (LogFrames() <= 5 * kThreshold) Write(writer, 1);
  ExpectNoBackgroundCheckpoint(*checkpointer);
  EXPECT_EQ(checkpointer->inline_checkpoints(), 0);
  // An ordinary commit wakes the thread, and does not copy the long log itself.
  checkpointer->SetBulkCommits(false);
  Write(writer, 1);
  EXPECT_EQ(checkpointer->inline_checkpoints(), 0);
  EXPECT_EQ(AwaitBackground(*checkpointer, 1), 1);
  EXPECT_GT(FileSize(""), 5 * kThreshold * 4096 / 2);  // the rows reached the file
  // The next commit starts the log again; from then on ordinary commits have the usual
  // backstop: with a reader pinning the log, they copy inline past 4 × the usual threshold.
  Write(writer, 1);
  sqlite3* reader = PinLog();
  Write(writer, 100);  // 300 pages or more, far short of 4 × the bulk threshold
  EXPECT_GT(checkpointer->inline_checkpoints(), 0);
  sqlite3_close(reader);
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, TheEndOfBulkWritesWakesTheThread) {
  sqlite3* writer = OpenWriter();
  auto checkpointer = StartBulk(writer, 16 * kThreshold);
  ASSERT_NE(checkpointer, nullptr);
  Write(writer, 5);  // short of the usual threshold: nothing to copy yet
  checkpointer->BulkWritesEnded();
  ExpectNoBackgroundCheckpoint(*checkpointer);
  while (LogFrames() <= 2 * kThreshold) Write(writer, 1);
  checkpointer->SetBulkCommits(false);
  EXPECT_EQ(checkpointer->background_checkpoints(), 0);
  // No commit follows; the end of the run alone has the log copied.
  checkpointer->BulkWritesEnded();
  EXPECT_EQ(AwaitBackground(*checkpointer, 1), 1);
  EXPECT_EQ(checkpointer->inline_checkpoints(), 0);
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, PastFourTimesTheBulkThresholdCommitsCheckpointInline) {
  sqlite3* writer = OpenWriter();
  Write(writer, 1);
  auto checkpointer = StartBulk(writer, 2 * kThreshold);
  ASSERT_NE(checkpointer, nullptr);
  sqlite3* reader = PinLog();
  while (LogFrames() <= 5 * kThreshold) Write(writer, 1);  // past 4 × the usual threshold
  EXPECT_EQ(checkpointer->inline_checkpoints(), 0);
  while (LogFrames() <= 9 * kThreshold) Write(writer, 1);  // past 4 × the bulk threshold
  EXPECT_GT(checkpointer->inline_checkpoints(), 0);
  sqlite3_close(reader);
  sqlite3_close(writer);
}

TEST_F(SqliteCheckpointerTest, ADatabasesBulkWritesUseTheBulkThresholdAndTheLogShrinksAfter) {
  DatabaseOptions options;
  options.sqlite_wal_autocheckpoint_pages = 16;
  options.sqlite_bulk_wal_autocheckpoint_pages = 100000;
  auto db = OpenWithRows(options, "INTEGER");
  ASSERT_TRUE(db.ok()) << db.status();
  auto insert = [&](int rows, TransactionOptions tx_options) {
    for (int i = 0; i < rows; ++i) {
      absl::Status s = (*db)->InTransaction(
          [](Transaction& tx) {
            return tx.Execute("INSERT INTO rows (body) VALUES (zeroblob(6000))", {}).status();
          },
          tx_options);
      ASSERT_TRUE(s.ok()) << s;
    }
  };
  // Past 16 pages many times over: ordinary commits would have the log copied and started
  // again all along; bulk ones leave it growing.
  insert(300, {.bulk_write = true});
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GT(FileSize("-wal"), 300 * 6000);
  EXPECT_LT(FileSize(""), 300 * 6000) << "the log was copied during the bulk writes";
  insert(1, {});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (FileSize("") < 300 * 6000 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GT(FileSize(""), 300 * 6000) << "an ordinary commit did not have the log copied";
  // Once the log is copied in full, the next write starts it again, and its commit cuts the
  // file back to twice the usual threshold (32 frames of 4 KiB and a header). The file
  // grows before the copy is complete, so a write may still find it unfinished: write on.
  constexpr int64_t kLimit = 2 * 16 * (4096 + 24);
  const absl::Time cut_deadline = absl::Now() + absl::Seconds(10);
  while (FileSize("-wal") > kLimit && absl::Now() < cut_deadline) {
    insert(1, {});
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_LE(FileSize("-wal"), kLimit) << "the log file kept its bulk size";
}

TEST_F(SqliteCheckpointerTest, ADatabaseCheckpointingInTheBackgroundKeepsEveryCommit) {
  DatabaseOptions options;
  options.sqlite_wal_autocheckpoint_pages = 16;  // a checkpoint every few commits
  const std::string url = absl::StrCat("sqlite:", path_);
  constexpr int kWriters = 4;
  constexpr int kRows = 150;
  {
    auto db = OpenWithRows(options, "TEXT");
    ASSERT_TRUE(db.ok()) << db.status();
    std::atomic<int> failures{0};
    std::atomic<bool> writing{true};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; i < kRows; ++i) {
          absl::Status s = (*db)->InTransaction([&](Transaction& tx) {
            return tx
                .Execute("INSERT INTO rows (id, body) VALUES (?, zeroblob(6000))",
                         {absl::StrCat(w, "-", i)})
                .status();
          });
          if (!s.ok()) failures.fetch_add(1);
        }
      });
    }
    // Readers alongside: a checkpoint never blocks them, nor they it for long.
    std::thread reader([&] {
      TransactionOptions read_only;
      read_only.read_only = true;
      while (writing.load()) {
        absl::Status s = (*db)->InTransaction(
            [](Transaction& tx) { return tx.Query("SELECT COUNT(*) FROM rows").status(); },
            read_only);
        if (!s.ok()) failures.fetch_add(1);
      }
    });
    for (auto& t : threads) t.join();
    writing.store(false);
    reader.join();
    EXPECT_EQ(failures.load(), 0);
  }
  auto reopened = Open(url, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::Status checked = (*reopened)->InTransaction([&](Transaction& tx) -> absl::Status {
    auto count = tx.Query("SELECT COUNT(*) FROM rows");
    if (!count.ok()) return count.status();
    EXPECT_EQ(count->front().GetInt(0), kWriters * kRows);
    auto integrity = tx.Query("PRAGMA integrity_check");
    if (!integrity.ok()) return integrity.status();
    EXPECT_EQ(integrity->front().GetText(0), "ok");
    return absl::OkStatus();
  });
  ASSERT_TRUE(checked.ok()) << checked;
}

}  // namespace
}  // namespace kelola::db
