// What every sale and payment writes to indexes, on both drivers: the ledger row
// (customer_ledgers, updated by each) is indexed by its key only, and the remembered
// writes' subject index holds only rows naming a subject (the ledger's name none), so
// neither gets an entry per write. On PostgreSQL the ledger row's update is then
// heap-only (HOT), as the server itself counts it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger-svc/store/migrations.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/testing/indexes.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"

namespace kelola::ledger {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Key;

class LedgerSchemaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-ledger-schema");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    auto url = testing::DatabaseUrl(GetParam(), *dir_, "ledger_schema");
    ASSERT_TRUE(url.ok()) << url.status();
    db::DatabaseOptions options;
    options.pool_size = 1;
    auto db = db::Open(*url, options);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    absl::Status applied = db::ApplyMigrations(*db_, Migrations());
    ASSERT_TRUE(applied.ok()) << applied;
  }

  bool pg() const { return GetParam() == "postgres"; }

  // Name -> definition of every index on `table`, its primary key's included.
  std::map<std::string, std::string> Indexes(const std::string& table) {
    auto indexes = testing::IndexesOn(*db_, {table}, /*with_keys=*/true);
    EXPECT_TRUE(indexes.ok()) << indexes.status();
    return indexes.ok() ? *std::move(indexes) : std::map<std::string, std::string>();
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
};

TEST_P(LedgerSchemaTest, LedgerRowsAreIndexedByTheirKeyOnly) {
  // SQLite names the primary key's own index "sqlite_autoindex_customer_ledgers_1".
  EXPECT_THAT(
      Indexes("customer_ledgers"),
      ElementsAre(Key(pg() ? "customer_ledgers_pkey" : "sqlite_autoindex_customer_ledgers_1")));
}

TEST_P(LedgerSchemaTest, RememberedWritesAreIndexedBySubjectOnlyWhereOneIsNamed) {
  EXPECT_THAT(Indexes("idempotency_keys")["idempotency_keys_by_subject"],
              HasSubstr("subject_id IS NOT NULL"));
}

// Heap-only updates are PostgreSQL's: this one runs on that driver alone.
class LedgerRowUpdateTest : public LedgerSchemaTest {};

TEST_P(LedgerRowUpdateTest, AnUpdateOfTheLedgerRowIsHeapOnly) {
  int64_t updated = -1, heap_only = -1;
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto r = tx.Execute(
            "INSERT INTO customer_ledgers (tenant_id, customer_id, ledger_version, balance, "
            "credit) VALUES ('t1', 'c1', 1, 0, 0)",
            {});
        !r.ok()) {
      return r.status();
    }
    // What a sale does to the row: a new version, balance, credit and stats.
    if (auto r = tx.Execute(
            "UPDATE customer_ledgers SET ledger_version = 2, balance = 8800000, credit = 0, "
            "stats = ? WHERE tenant_id = 't1' AND customer_id = 'c1'",
            {db::Bytes{std::string(40, 'x')}});
        !r.ok()) {
      return r.status();
    }
    // This transaction's own counts, so no wait for the statistics to be reported.
    auto counts = tx.QueryOne(
        "SELECT pg_stat_get_xact_tuples_updated('customer_ledgers'::regclass), "
        "pg_stat_get_xact_tuples_hot_updated('customer_ledgers'::regclass)",
        {});
    if (!counts.ok()) return counts.status();
    updated = counts->GetInt(0);
    heap_only = counts->GetInt(1);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(updated, 1);
  EXPECT_EQ(heap_only, 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerSchemaTest, ::testing::Values("sqlite", "postgres"));
INSTANTIATE_TEST_SUITE_P(Postgres, LedgerRowUpdateTest, ::testing::Values("postgres"));

}  // namespace
}  // namespace kelola::ledger
