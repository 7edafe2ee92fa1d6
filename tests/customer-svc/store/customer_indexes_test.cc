// customer-svc's secondary indexes after every migration, on SQLite and PostgreSQL
// (docs/decisions/customer-indexes.md): exactly the kept ones exist, those over columns often
// NULL are partial, and their queries pick them on a database without statistics
// (SQLite keeps none). The search tables are left out: their indexes belong to search.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/store/migrations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/testing/indexes.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"

namespace kelola::customer::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

// The directory's tables.
std::vector<std::string> Tables() {
  return {"tenant_settings",      "customers",
          "customer_phones",      "categories",
          "price_list_entries",   "idempotency_keys",
          "tenant_category_seed", "consent_history",
          "erasure_audit",        "deleted_customers",
          "pending_deletes",      "merge_operations",
          "customer_stats",       "customer_stats_summary"};
}

// The statements of BirthdayCandidates and CustomersMergedInto.
constexpr char kBirthdays[] =
    "SELECT data, birthday_month, birthday_day FROM customers WHERE tenant_id = ? AND state = ? "
    "AND birthday_month IN (?, ?)";
constexpr char kMergedInto[] =
    "SELECT customer_id FROM customers WHERE tenant_id = ? AND merged_into = ? AND state = ? "
    "ORDER BY customer_id";

class CustomerIndexesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-indexes");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    auto url = testing::DatabaseUrl(GetParam(), *dir_, "indexes");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = db::Open(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    absl::Status applied = db::ApplyMigrations(*db_, Migrations());
    ASSERT_TRUE(applied.ok()) << applied;
  }

  bool pg() const { return GetParam() == "postgres"; }

  // Name -> definition of every secondary index on the directory's tables.
  std::map<std::string, std::string> Indexes() {
    auto indexes = testing::IndexesOn(*db_, Tables(), /*with_keys=*/false);
    EXPECT_TRUE(indexes.ok()) << indexes.status();
    return indexes.ok() ? *std::move(indexes) : std::map<std::string, std::string>();
  }

  // The plan of `sql`, one node a line. PostgreSQL plans empty tables: sequential scans,
  // bitmap scans and sorts are disabled so that it shows the index it would use at scale
  // (a sort stays in the plan when no index gives the order).
  std::string Plan(const std::string& sql, const std::vector<db::Value>& params) {
    std::vector<std::string> lines;
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      lines.clear();
      if (pg()) {
        if (auto set = tx.ExecuteScript("SET LOCAL enable_seqscan = off; SET LOCAL "
                                        "enable_bitmapscan = off; SET LOCAL enable_sort = off");
            !set.ok()) {
          return set;
        }
      }
      auto rows = tx.Query(absl::StrCat(pg() ? "EXPLAIN " : "EXPLAIN QUERY PLAN ", sql), params);
      if (!rows.ok()) return rows.status();
      for (const auto& r : *rows) lines.push_back(r.GetText(pg() ? 0 : r.size() - 1));
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return absl::StrJoin(lines, "\n");
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
};

TEST_P(CustomerIndexesTest, OnlyTheKeptIndexesExist) {
  std::vector<std::string> expected = {
      "customers_email_dedupe",      "customers_by_category",       "customers_by_birthday",
      "customers_by_merged_into",    "customer_phones_dedupe",      "categories_by_name",
      "idempotency_keys_by_subject", "pending_deletes_by_time",     "merge_operations_by_state",
      "merge_operations_by_source",  "merge_operations_by_target",  "customer_stats_spent_asc",
      "customer_stats_balance_asc",  "customer_stats_activity_asc", "customer_stats_activity_desc",
      "customer_stats_buyers"};
  if (pg()) {
    // Lists sort in "C" collation on PostgreSQL; these replace customers_by_name/_created.
    expected.insert(expected.end(), {"customers_query_name_asc", "customers_query_created_asc"});
  } else {
    // Named by the lists' INDEXED BY, for both directions.
    expected.insert(expected.end(), {"customers_by_name", "customers_by_created"});
  }
  std::vector<std::string> names;
  for (const auto& [name, definition] : Indexes()) names.push_back(name);
  EXPECT_THAT(names, UnorderedElementsAreArray(expected));
}

TEST_P(CustomerIndexesTest, MostlyNullColumnsAreIndexedOnlyWhereSet) {
  std::map<std::string, std::string> indexes = Indexes();
  EXPECT_THAT(indexes["customers_by_birthday"], HasSubstr("birthday_month IS NOT NULL"));
  EXPECT_THAT(indexes["customers_by_merged_into"], HasSubstr("merged_into IS NOT NULL"));
  EXPECT_THAT(indexes["idempotency_keys_by_subject"], HasSubstr("subject_id IS NOT NULL"));
}

// Erasure's rewrite of a customer's remembered responses (PrivacyRecords::EraseTraces).
TEST_P(CustomerIndexesTest, ErasureFindsRememberedResponsesThroughThePartialIndex) {
  const std::string plan =
      Plan("UPDATE idempotency_keys SET response = ? WHERE tenant_id = ? AND subject_id = ?",
           {db::Bytes{std::string()}, "t1", "c1"});
  EXPECT_THAT(plan, HasSubstr("idempotency_keys_by_subject")) << plan;
}

TEST_P(CustomerIndexesTest, BirthdaysSeekTheirMonthsThroughThePartialIndex) {
  const std::string plan = Plan(kBirthdays, {"t1", int64_t{1}, int64_t{3}, int64_t{4}});
  EXPECT_THAT(plan, HasSubstr("customers_by_birthday")) << plan;
}

TEST_P(CustomerIndexesTest, MergedPointersComeInIdOrderFromThePartialIndex) {
  const std::string plan = Plan(kMergedInto, {"t1", "c1", int64_t{4}});
  EXPECT_THAT(plan, HasSubstr("customers_by_merged_into")) << plan;
  // No sort step: the index delivers customer_id order.
  EXPECT_THAT(plan, Not(HasSubstr(pg() ? "Sort" : "TEMP B-TREE"))) << plan;
}

// Each list order reads one ascending index, forwards for "asc" and backwards for "desc"
// (ties by customer_id in the same direction), with no sort step: the statements of
// customer_list.cc for a first page (states ACTIVE and ARCHIVED are read one at a time).
TEST_P(CustomerIndexesTest, ListsReadOneIndexPerOrderInBothDirections) {
  const std::string c = pg() ? " COLLATE \"C\"" : "";
  struct Order {
    std::string index, from, key, id;
  };
  const std::vector<Order> orders = {
      {pg() ? "customers_query_name_asc" : "customers_by_name", "customers c",
       "c.name_sort_key" + c, "c.customer_id" + c},
      {pg() ? "customers_query_created_asc" : "customers_by_created", "customers c",
       "c.create_time_micros", "c.customer_id" + c},
      {"customer_stats_spent_asc", "customer_stats s", "s.total_spent_minor", "s.customer_id" + c},
      {"customer_stats_balance_asc", "customer_stats s", "s.balance_minor", "s.customer_id" + c},
      {"customer_stats_activity_asc", "customer_stats s", "s.activity_asc_key",
       "s.customer_id" + c},
      {"customer_stats_activity_desc", "customer_stats s", "s.activity_desc_key",
       "s.customer_id" + c}};
  for (const Order& o : orders) {
    const bool customers = o.from == "customers c";
    for (const char* direction : {"", " DESC"}) {
      const std::string sql =
          absl::StrCat("SELECT ", o.id, " FROM ", o.from, pg() ? "" : " INDEXED BY " + o.index,
                       " WHERE ", customers ? "c.tenant_id = ? AND c.state = ?" : "s.tenant_id = ?",
                       " ORDER BY ", o.key, direction, ", ", o.id, direction, " LIMIT 51");
      const std::vector<db::Value> params =
          customers ? std::vector<db::Value>{"t1", int64_t{1}} : std::vector<db::Value>{"t1"};
      const std::string plan = Plan(sql, params);
      EXPECT_THAT(plan, HasSubstr(o.index)) << sql << "\n" << plan;
      EXPECT_THAT(plan, Not(HasSubstr(pg() ? "Sort" : "TEMP B-TREE"))) << sql << "\n" << plan;
    }
  }
}

// has_balance sorted by total_spent: on SQLite the balance is in the index, so the customers
// without one are skipped from their index entries (a covering read of the filter's
// columns), not after reading their stats rows; about 70 % of a directory's buyers owe
// nothing. PostgreSQL walks the same index backwards and filters the rows it reads. The
// statement reads only the filter's columns, so that the plan shows what the index holds;
// the list's own statement joins customers and reads more.
TEST_P(CustomerIndexesTest, TheBalanceFilterIsReadFromTheSpentIndex) {
  const std::string c = pg() ? " COLLATE \"C\"" : "";
  const std::string sql = absl::StrCat(
      "SELECT s.customer_id FROM customer_stats s",
      pg() ? "" : " INDEXED BY customer_stats_spent_asc",
      " WHERE s.tenant_id = ? AND s.balance_minor > 0 ORDER BY s.total_spent_minor DESC, "
      "s.customer_id",
      c, " DESC LIMIT 51");
  const std::string plan = Plan(sql, {"t1"});
  EXPECT_THAT(plan, HasSubstr(pg() ? "Index Scan Backward using customer_stats_spent_asc"
                                   : "USING COVERING INDEX customer_stats_spent_asc"))
      << plan;
  EXPECT_THAT(plan, Not(HasSubstr(pg() ? "Sort" : "TEMP B-TREE"))) << plan;
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerIndexesTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::store
