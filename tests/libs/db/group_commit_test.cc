// Group commit against real SQLite (file) and PostgreSQL.

#include "libs/db/group_commit.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/db/migrations.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"

namespace kelola::db {
namespace {

class GroupCommitTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "sqlite") {
      auto dir = testing::TempDir::Create("kelola-gc");
      ASSERT_TRUE(dir.ok());
      dir_ = *std::move(dir);
      url = absl::StrCat("sqlite:", dir_->path(), "/gc.db");
    } else {
      auto created = testing::SharedPostgres()->CreateUniqueDatabase("gc");
      ASSERT_TRUE(created.ok()) << created.status();
      url = *created;
    }
    auto db = Open(url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(ApplyMigrations(*db_, {{1, "items",
                                        "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT "
                                        "NULL)",
                                        ""}})
                    .ok());
  }

  int64_t Count() {
    int64_t n = -1;
    EXPECT_TRUE(db_->InTransaction([&](Transaction& tx) -> absl::Status {
                     auto row = tx.QueryOne("SELECT COUNT(*) FROM items");
                     if (!row.ok()) return row.status();
                     n = row->GetInt(0);
                     return absl::OkStatus();
                   })
                    .ok());
    return n;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<Database> db_;
};

TEST(GroupCommitWantedTest, AutoSharesCommitsOnSqliteOnly) {
  EXPECT_TRUE(*GroupCommitWanted("auto", Dialect::kSqlite));
  EXPECT_FALSE(*GroupCommitWanted("auto", Dialect::kPostgres));
  EXPECT_TRUE(*GroupCommitWanted("on", Dialect::kPostgres));
  EXPECT_TRUE(*GroupCommitWanted("true", Dialect::kPostgres));
  EXPECT_FALSE(*GroupCommitWanted("off", Dialect::kSqlite));
  EXPECT_FALSE(*GroupCommitWanted("false", Dialect::kSqlite));
  EXPECT_EQ(GroupCommitWanted("yes", Dialect::kSqlite).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(GroupCommitTest, ConcurrentWritersShareCommits) {
  GroupCommitter committer(*db_);
  std::atomic<int> after_commit{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        absl::Status s = committer.Run([&, t, i](Transaction& tx) -> absl::Status {
          tx.AfterCommit([&] { after_commit.fetch_add(1); });
          return tx
              .Execute("INSERT INTO items (id, n) VALUES (?, ?)",
                       {absl::StrCat(t, "-", i), int64_t{i}})
              .status();
        });
        EXPECT_TRUE(s.ok()) << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(), 640);
  EXPECT_EQ(after_commit.load(), 640);
  EXPECT_EQ(committer.functions(), 640);
  EXPECT_LT(committer.batches(), 640);  // some commits were shared
}

TEST_P(GroupCommitTest, AFailingFunctionIsRolledBackAloneWithItsCallbacks) {
  GroupCommitter committer(*db_);
  std::atomic<int> after_commit{0};
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const bool fail = (t + i) % 2 == 0;
        absl::Status s = committer.Run([&, t, i, fail](Transaction& tx) -> absl::Status {
          tx.AfterCommit([&] { after_commit.fetch_add(1); });
          auto inserted = tx.Execute("INSERT INTO items (id, n) VALUES (?, ?)",
                                     {absl::StrCat(t, "-", i), int64_t{i}});
          if (!inserted.ok()) return inserted.status();
          // A business refusal after a write: the write must vanish, and an ABORTED
          // that is not a database conflict must not be retried.
          if (fail) return absl::AbortedError("stale etag");
          return absl::OkStatus();
        });
        if (fail) {
          EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
          EXPECT_FALSE(IsConflict(s));
          failed.fetch_add(1);
        } else {
          EXPECT_TRUE(s.ok()) << s;
          ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(), ok.load());
  EXPECT_EQ(after_commit.load(), ok.load());
  EXPECT_EQ(ok.load() + failed.load(), 320);
}

// Every one of 8 threads writes key "same-i" once for i < 20, and one key of its own; with
// `deferred` the statements are deferred and the function returns without waiting.
void RaceForTheSameKeys(GroupCommitter& committer, bool deferred) {
  std::atomic<int> ok{0}, exists{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        absl::Status s = committer.Run([&, t, i](Transaction& tx) -> absl::Status {
          const std::string own = absl::StrCat("own-", t, "-", i);
          const std::string same = absl::StrCat("same-", i);
          const char* sql = "INSERT INTO items (id, n) VALUES (?, 0)";
          if (deferred) {
            if (absl::Status s = tx.ExecuteDeferred(sql, {own}); !s.ok()) return s;
            return tx.ExecuteDeferred(sql, {same});
          }
          auto inserted = tx.Execute(sql, {own});
          if (!inserted.ok()) return inserted.status();
          return tx.Execute(sql, {same}).status();
        });
        if (s.ok()) {
          ok.fetch_add(1);
        } else {
          EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
          exists.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);  // one winner per key
  EXPECT_EQ(exists.load(), 140);
}

TEST_P(GroupCommitTest, UniqueViolationInsideABatchFailsOnlyTheDuplicate) {
  GroupCommitter committer(*db_);
  RaceForTheSameKeys(committer, /*deferred=*/false);
  EXPECT_EQ(Count(), 40);  // the losers' own rows were rolled back with them
}

TEST_P(GroupCommitTest, ADeferredStatementsErrorFailsOnlyItsFunction) {
  GroupCommitter committer(*db_);
  RaceForTheSameKeys(committer, /*deferred=*/true);
  EXPECT_EQ(Count(), 40);
}

TEST_P(GroupCommitTest, LoneCallerCommitsAtOnce) {
  GroupCommitter committer(*db_);
  ASSERT_TRUE(committer
                  .Run([](Transaction& tx) {
                    return tx.Execute("INSERT INTO items (id, n) VALUES ('a', 1)").status();
                  })
                  .ok());
  EXPECT_EQ(committer.batches(), 1);
  EXPECT_EQ(Count(), 1);
}

// More writers than a batch holds: every request is answered only after it ran, every
// OK is a stored row, every stored row was answered OK (a leader once ran the front of
// the queue without its own request and answered itself OK unstored).
void StressMoreWritersThanABatch(Database& db, int max_batch, int writers, int rounds) {
  GroupCommitter committer(db, GroupCommitOptions{.max_batch = max_batch});
  for (int round = 0; round < rounds; ++round) {
    std::atomic<int> ok{0};
    std::vector<std::string> acknowledged(writers);
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
      threads.emplace_back([&, t] {
        const std::string id = absl::StrCat("r", round, "-w", t);
        bool ran = false;
        absl::Status s = committer.Run([&](Transaction& tx) -> absl::Status {
          ran = true;
          return tx.Execute("INSERT INTO items (id, n) VALUES (?, ?)", {id, int64_t{t}}).status();
        });
        ASSERT_TRUE(s.ok()) << s;
        EXPECT_TRUE(ran) << "answered OK without running: " << id;
        acknowledged[t] = id;
        ok.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(ok.load(), writers) << "round " << round;
  }
  int64_t stored = 0;
  ASSERT_TRUE(db.InTransaction([&](Transaction& tx) -> absl::Status {
                  auto rows = tx.QueryOne("SELECT COUNT(*), COUNT(DISTINCT id) FROM items");
                  if (!rows.ok()) return rows.status();
                  stored = rows->GetInt(0);
                  EXPECT_EQ(rows->GetInt(1), stored);
                  return absl::OkStatus();
                }).ok());
  EXPECT_EQ(stored, int64_t{writers} * rounds);
  EXPECT_EQ(committer.functions(), int64_t{writers} * rounds);
}

TEST_P(GroupCommitTest, SixtyFourWritersThroughBatchesOfFour) {
  StressMoreWritersThanABatch(*db_, /*max_batch=*/4, /*writers=*/64, /*rounds=*/50);
}

TEST_P(GroupCommitTest, ThreeHundredWritersThroughDefaultBatches) {
  StressMoreWritersThanABatch(*db_, GroupCommitOptions{}.max_batch, /*writers=*/300,
                              /*rounds=*/10);
}

TEST_P(GroupCommitTest, BatchesOfOneStillServeEveryone) {
  StressMoreWritersThanABatch(*db_, /*max_batch=*/1, /*writers=*/32, /*rounds=*/3);
}

INSTANTIATE_TEST_SUITE_P(Drivers, GroupCommitTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::db
