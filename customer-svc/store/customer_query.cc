#include "customer-svc/store/customer_query.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "customer-svc/store/customer_stats_projection.h"

namespace kelola::customer::store {
namespace {

// Migration 21 created the six SQL search tables; search is served from memory since 23,
// which drops them. A fresh database now gets only customer_query_docs from it, which 23
// reads and drops.
db::Migration SearchTablesSuperseded() {
  constexpr char kScript[] = R"sql(
CREATE TABLE customer_query_docs (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  consent_state INTEGER NOT NULL DEFAULT 0,
  name_words TEXT NOT NULL,
  company_words TEXT NOT NULL,
  phones TEXT NOT NULL,
  email TEXT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
)sql";
  return {21, "customer search index", kScript, ""};
}

// Migration 23: search from memory only (docs/decisions/search-index.md, "No SQL search
// tables"). The consent state that lists filter on moves into customers, as the lists read it
// until now: GRANTED where consent_granted is set, else the state of customer_query_docs
// (UNSPECIFIED without a document: merged or erased); then the search tables go.
db::Migration SearchFromMemory() {
  constexpr char kScript[] = R"sql(
ALTER TABLE customers ADD COLUMN consent_state INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET consent_state = 1 WHERE consent_granted = 1;
UPDATE customers SET consent_state = (SELECT d.consent_state FROM customer_query_docs d
  WHERE d.tenant_id = customers.tenant_id AND d.customer_id = customers.customer_id)
  WHERE consent_granted = 0 AND EXISTS (SELECT 1 FROM customer_query_docs d WHERE d.tenant_id = customers.tenant_id
  AND d.customer_id = customers.customer_id);
DROP TABLE customer_query_docs;
DROP TABLE IF EXISTS search_terms;
DROP TABLE IF EXISTS search_vocab;
DROP TABLE IF EXISTS search_vocab_grams;
DROP TABLE IF EXISTS search_phones;
DROP TABLE IF EXISTS search_emails;
)sql";
  return {23, "search from memory only", kScript, ""};
}

// Migration 24: one index per list order (docs/decisions/customer-indexes.md, "One index
// per order"). A descending list breaks its ties by customer_id descending too, so the
// ascending index serves it scanned backwards; the four indexes kept for descending orders
// with ascending ties go. last_activity_time desc sorts on its own column
// (activity_desc_key), whose index becomes ascending like the others.
db::Migration OneIndexPerOrder() {
  constexpr char kDrops[] = R"sql(
DROP INDEX customer_stats_spent_desc;
DROP INDEX customer_stats_balance_desc;
DROP INDEX customers_query_name_desc;
DROP INDEX customers_query_created_desc;
DROP INDEX customer_stats_activity_desc;
)sql";
  return {24, "one index per list order",
          absl::StrCat(kDrops,
                       "CREATE INDEX customer_stats_activity_desc ON customer_stats (tenant_id, "
                       "activity_desc_key, customer_id);\n"),
          absl::StrCat(kDrops,
                       "CREATE INDEX customer_stats_activity_desc ON customer_stats (tenant_id, "
                       "activity_desc_key, customer_id COLLATE \"C\");\n")};
}

// Migration 25: on SQLite the total_spent index carries balance_minor
// (docs/decisions/customer-indexes.md, "The balance in the total_spent index"), so that
// `has_balance` sorted by total_spent skips the customers it rejects from the index entry
// alone: SQLite defers the stats row's seek until a column outside the index is needed.
// PostgreSQL 15 checks an index scan's filter only after reading the row, so it would gain
// nothing, and with the column there it planned the filter as a scan of the whole index.
db::Migration BalanceInSpentIndex() {
  constexpr char kSql[] = R"sql(
DROP INDEX customer_stats_spent_asc;
CREATE INDEX customer_stats_spent_asc ON customer_stats (tenant_id, total_spent_minor,
  customer_id, balance_minor);
)sql";
  return {25, "balance in the total_spent index", kSql, "SELECT 1;  -- SQLite only\n"};
}

}  // namespace

std::vector<db::Migration> CustomerQueryMigrations() {
  return {stats_projection::StatsProjectionMigration(),
          SearchTablesSuperseded(),
          stats_projection::BuyersPerTenantMigration(),
          SearchFromMemory(),
          OneIndexPerOrder(),
          BalanceInSpentIndex()};
}

CustomerQuery::CustomerQuery(const Clock& clock, SearchIndexCache& index,
                             CustomerQueryOptions options)
    : clock_(clock),
      options_(options),
      index_(index),
      duplicate_lists_(std::make_shared<DuplicateLists>(options.duplicate_lists_bytes)) {}

}  // namespace kelola::customer::store
