// Sale and payment number blocks on PostgreSQL (entry_numbers.h): numbers are unique and
// increasing per tenant and counter, also under more concurrent writers than a block
// holds; a block used up quickly is followed by a larger one, up to max_block; one that
// lasted long by a smaller one, down to min_block. Against a real server: the block sizes
// are read back from the counter rows.

#include "ledger-svc/store/entry_numbers.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ledger-svc/store/migrations.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/testing/postgres_environment.h"

namespace kelola::ledger {
namespace {

class EntryNumbersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(testing::SharedPostgres(), nullptr);
    auto url = testing::SharedPostgres()->CreateUniqueDatabase("numbers");
    ASSERT_TRUE(url.ok()) << url.status();
    db::DatabaseOptions options;
    options.pool_size = 4;
    auto opened = db::Open(*url, options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    db_ = *std::move(opened);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
  }

  // The number of `name` for `tenant` that a write reserving `reserve` (default: only
  // `name`) takes.
  int64_t Take(NumberBlocks& blocks, const std::string& tenant, const std::string& name,
               std::vector<std::string> reserve = {}) {
    if (reserve.empty()) reserve = {name};
    auto numbers = blocks.Reserve(tenant, reserve);
    EXPECT_TRUE(numbers.ok()) << numbers.status();
    if (!numbers.ok()) return -1;
    int64_t value = -1;
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto taken = numbers->Take(tx, tenant, name);
      if (!taken.ok()) return taken.status();
      value = *taken;
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return value;
  }

  // The counter row's value: the end of the last block reserved.
  int64_t Reserved(const std::string& tenant, const std::string& name) {
    int64_t value = 0;
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne("SELECT value FROM ledger_counters WHERE tenant_id = ? AND name = ?",
                             {tenant, name});
      if (!row.ok()) return row.status();
      value = row->GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return value;
  }

  std::unique_ptr<db::Database> db_;
  FakeClock clock_;
};

TEST_F(EntryNumbersTest, BlocksGrowWhileUsedUpQuicklyAndShrinkWhenTheyLast) {
  NumberBlockOptions options;
  options.min_block = 4;
  options.max_block = 32;
  NumberBlocks blocks(*db_, clock_, options);
  // Blocks of 4, 8, 16, 32, 32: all taken at once (the clock stands still).
  const std::map<int, int64_t> kReservedAfter = {
      {3, 4}, {4, 4 + 8}, {4 + 8, 4 + 8 + 16}, {4 + 8 + 16, 4 + 8 + 16 + 32}};
  int64_t last = 0;
  for (int i = 0; i < 4 + 8 + 16 + 32 + 1; ++i) {
    const int64_t n = Take(blocks, "t", "sale");
    ASSERT_EQ(n, last + 1);
    last = n;
    // After the take that reserved each block: the end of the blocks so far.
    const auto reserved = kReservedAfter.find(i);
    if (reserved != kReservedAfter.end()) {
      EXPECT_EQ(Reserved("t", "sale"), reserved->second) << "after take " << i;
    }
  }
  EXPECT_EQ(Reserved("t", "sale"), 4 + 8 + 16 + 32 + 32) << "max_block caps the growth";

  // Use up that block slowly: the next is half as large.
  clock_.Advance(absl::Seconds(10));
  for (int i = 0; i < 31; ++i) ASSERT_EQ(Take(blocks, "t", "sale"), ++last);
  EXPECT_EQ(Reserved("t", "sale"), 4 + 8 + 16 + 32 + 32);
  ASSERT_EQ(Take(blocks, "t", "sale"), ++last);
  EXPECT_EQ(Reserved("t", "sale"), 4 + 8 + 16 + 32 + 32 + 16);
  // Neither quick nor slow (one second per block): the size stays.
  clock_.Advance(absl::Seconds(1));
  for (int i = 0; i < 17; ++i) ASSERT_EQ(Take(blocks, "t", "sale"), ++last);
  EXPECT_EQ(Reserved("t", "sale"), 4 + 8 + 16 + 32 + 32 + 16 + 16);

  // Counters and tenants have blocks of their own, starting small.
  EXPECT_EQ(Take(blocks, "t", "payment"), 1);
  EXPECT_EQ(Reserved("t", "payment"), 4);
  EXPECT_EQ(Take(blocks, "u", "sale"), 1);
  EXPECT_EQ(Reserved("u", "sale"), 4);
}

TEST_F(EntryNumbersTest, ConcurrentWritersGetUniqueNumbersAcrossTwoProcesses) {
  // Two NumberBlocks stand for two replicas on one database; 16 writers, more than the
  // pool's 4 connections and than the first blocks hold.
  NumberBlockOptions options;
  options.min_block = 2;
  options.max_block = 64;
  NumberBlocks a(*db_, clock_, options);
  NumberBlocks b(*db_, clock_, options);
  absl::Mutex mu;
  std::set<int64_t> seen;
  int duplicates = 0;
  std::vector<std::thread> writers;
  for (int w = 0; w < 16; ++w) {
    writers.emplace_back([&, w] {
      NumberBlocks& blocks = w % 2 == 0 ? a : b;
      int64_t previous = 0;
      for (int i = 0; i < 200; ++i) {
        const int64_t sale = Take(blocks, "t", "sale", {"sale", "payment"});
        EXPECT_GT(sale, previous) << "numbers a writer takes increase";
        previous = sale;
        absl::MutexLock lock(&mu);
        if (!seen.insert(sale).second) ++duplicates;
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(seen.size(), 16u * 200u);
  EXPECT_GE(Reserved("t", "sale"), *seen.rbegin());
}

TEST_F(EntryNumbersTest, SizesBelowOneAreTakenAsOne) {
  NumberBlockOptions options;
  options.min_block = 0;
  options.max_block = -5;
  NumberBlocks blocks(*db_, clock_, options);
  for (int64_t n = 1; n <= 3; ++n) ASSERT_EQ(Take(blocks, "t", "sale"), n);
  // Blocks of one number each: none grows past max_block, taken as min_block (1).
  EXPECT_EQ(Reserved("t", "sale"), 3);
}

}  // namespace
}  // namespace kelola::ledger
