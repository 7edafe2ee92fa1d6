#include "customer-svc/store/migrations.h"

#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/ledger_stats_feed.h"
#include "libs/events/outbox.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::customer {
namespace {

// The directory: one row per customer with the columns that lists, filters, sorts and
// duplicate checks need, and the whole resource as a serialized
// kelola.customer.v1.Customer in `data` (stats excluded; they live in customer_stats).
//
// Duplicate prevention (C6) is enforced by unique indexes on `*_dedupe` columns: they
// hold the normalized phone/email while the customer counts for duplicate checks (active,
// not created or updated with allow_duplicate), and NULL otherwise. NULLs never conflict
// in a unique index, on SQLite and on PostgreSQL alike.
db::Migration CustomerDirectory(int version) {
  db::Migration m;
  m.version = version;
  m.name = "customer directory";
  m.sqlite = R"sql(
CREATE TABLE tenant_settings (
  tenant_id TEXT PRIMARY KEY,
  settings BLOB NOT NULL,
  version BIGINT NOT NULL,
  update_time_micros BIGINT NOT NULL);
CREATE TABLE customers (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  display_name TEXT NOT NULL,
  name_folded TEXT NOT NULL,
  name_sort_key TEXT NOT NULL,
  email_normalized TEXT,
  email_dedupe TEXT,
  category_id TEXT,
  consent_granted INTEGER NOT NULL DEFAULT 0,
  birthday_month INTEGER,
  birthday_day INTEGER,
  merged_into TEXT,
  create_time_micros BIGINT NOT NULL,
  update_time_micros BIGINT NOT NULL,
  version BIGINT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
CREATE UNIQUE INDEX customers_email_dedupe ON customers (tenant_id, email_dedupe);
CREATE INDEX customers_by_name ON customers (tenant_id, state, name_sort_key, customer_id);
CREATE INDEX customers_by_created ON customers (tenant_id, state, create_time_micros, customer_id);
CREATE INDEX customers_by_category ON customers (tenant_id, category_id, state);
CREATE INDEX customers_by_birthday ON customers (tenant_id, birthday_month, birthday_day);
CREATE TABLE customer_phones (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  e164 TEXT NOT NULL,
  national_number TEXT NOT NULL,
  e164_dedupe TEXT,
  PRIMARY KEY (tenant_id, customer_id, position));
CREATE UNIQUE INDEX customer_phones_dedupe ON customer_phones (tenant_id, e164_dedupe);
CREATE INDEX customer_phones_by_e164 ON customer_phones (tenant_id, e164);
CREATE TABLE categories (
  tenant_id TEXT NOT NULL,
  category_id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  name_folded TEXT NOT NULL,
  member_discount_bps INTEGER NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  create_time_micros BIGINT NOT NULL,
  update_time_micros BIGINT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (tenant_id, category_id));
CREATE UNIQUE INDEX categories_by_name ON categories (tenant_id, name_folded);
CREATE TABLE price_list_entries (
  tenant_id TEXT NOT NULL,
  category_id TEXT NOT NULL,
  sku TEXT NOT NULL,
  price_minor BIGINT NOT NULL,
  currency_code TEXT NOT NULL,
  update_time_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, category_id, sku));
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  request_id TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response BLOB NOT NULL,
  create_time_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, scope, request_id));
)sql";
  return m;
}

// Directory features beyond migration 3 (owned by the directory store):
// - customers.duplicate_allowed: the customer was created or last given its phones/email
//   with allow_duplicate (C6), so its *_dedupe columns stay NULL even while active;
// - idempotency_keys.subject_id: the customer a remembered response is about, so that
//   erasure (C17) can scrub personal data from remembered responses too;
// - tenant_category_seed: a tenant's default categories were created once (C9), so that a
//   deleted default category is not created again;
// - consent_history: every marketing consent decision (C17), for ExportCustomerData;
// - erasure_audit: who erased which customer, when and why (no personal data).
db::Migration DirectoryFeatures(int version) {
  db::Migration m;
  m.version = version;
  m.name = "directory features";
  m.sqlite = R"sql(
ALTER TABLE customers ADD COLUMN duplicate_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE idempotency_keys ADD COLUMN subject_id TEXT;
CREATE INDEX idempotency_keys_by_subject ON idempotency_keys (tenant_id, subject_id);
CREATE TABLE tenant_category_seed (
  tenant_id TEXT PRIMARY KEY,
  create_time_micros BIGINT NOT NULL);
CREATE TABLE consent_history (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  state INTEGER NOT NULL,
  consent_time_micros BIGINT NOT NULL,
  source TEXT NOT NULL,
  principal TEXT NOT NULL,
  record_time_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id, position));
CREATE TABLE erasure_audit (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  erase_time_micros BIGINT NOT NULL,
  principal TEXT NOT NULL,
  reason TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
)sql";
  return m;
}

// The cross-service operations (store/customer_operations.h):
// - deleted_customers: ids deleted for good (C4), never reused, with who and when;
// - pending_deletes: a delete between sealing in ledger-svc and removing the row here;
// - merge_operations: the merge saga's operation rows (C7), also its audit record;
// - customers_by_merged_into: the MERGED pointers to a customer, re-pointed by a merge.
db::Migration CustomerOperations(int version) {
  db::Migration m;
  m.version = version;
  m.name = "deletes and merges";
  m.sqlite = R"sql(
CREATE TABLE deleted_customers (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  delete_time_micros BIGINT NOT NULL,
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
CREATE TABLE pending_deletes (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  seal_id TEXT NOT NULL,
  create_time_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
CREATE INDEX pending_deletes_by_time ON pending_deletes (create_time_micros);
CREATE TABLE merge_operations (
  tenant_id TEXT NOT NULL,
  merge_operation_id TEXT NOT NULL,
  source_customer_id TEXT NOT NULL,
  target_customer_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  previous_source_state INTEGER NOT NULL,
  create_time_micros BIGINT NOT NULL,
  update_time_micros BIGINT NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, merge_operation_id));
CREATE INDEX merge_operations_by_state ON merge_operations (state, update_time_micros);
CREATE INDEX merge_operations_by_source ON merge_operations (tenant_id, source_customer_id);
CREATE INDEX merge_operations_by_target ON merge_operations (tenant_id, target_customer_id, state);
CREATE INDEX customers_by_merged_into ON customers (tenant_id, merged_into);
)sql";
  return m;
}

// Leaner directory indexes (docs/decisions/customer-indexes.md has each query's plan):
// - customers_by_birthday and customers_by_merged_into hold only the rows with a value
//   (most customers have neither), and lead with the columns their one query seeks and
//   orders by, so that SQLite picks them without statistics (it keeps none: before, it
//   scanned the tenant's customers instead);
// - PostgreSQL: customers_by_name and customers_by_created go; no plan used them, since
//   lists sort in "C" collation through customers_query_name_asc and
//   customers_query_created_asc (migration 20), which serve the same seeks. SQLite keeps
//   both: its lists name them (INDEXED BY).
db::Migration LeanerDirectoryIndexes(int version) {
  constexpr char kReshaped[] = R"sql(
DROP INDEX customers_by_birthday;
CREATE INDEX customers_by_birthday ON customers (tenant_id, state, birthday_month)
  WHERE birthday_month IS NOT NULL;
DROP INDEX customers_by_merged_into;
CREATE INDEX customers_by_merged_into ON customers (tenant_id, merged_into, customer_id)
  WHERE merged_into IS NOT NULL;
)sql";
  db::Migration m;
  m.version = version;
  m.name = "leaner directory indexes";
  m.sqlite = kReshaped;
  m.postgres = std::string(kReshaped) +
               "DROP INDEX customers_by_name;\n"
               "DROP INDEX customers_by_created;\n";
  return m;
}

// The stored messages (a customer's `data`, a remembered response) are never a condition of
// a query: PostgreSQL gathers no statistics on them (ANALYZE otherwise samples and sorts
// 30,000 of each). SQLite keeps no statistics.
db::Migration NoStatisticsOnMessages(int version) {
  db::Migration m;
  m.version = version;
  m.name = "no planner statistics on stored messages";
  m.sqlite = "SELECT 1;  -- PostgreSQL only\n";
  m.postgres =
      "ALTER TABLE customers ALTER COLUMN data SET STATISTICS 0;\n"
      "ALTER TABLE idempotency_keys ALTER COLUMN response SET STATISTICS 0;\n";
  return m;
}

// The remembered writes' subject index (erasure's lookup) holds only the rows that name a
// customer: a write about no customer (settings, categories) adds no entry to it.
db::Migration SubjectIndexWhereSet(int version) {
  db::Migration m;
  m.version = version;
  m.name = "remembered writes indexed by subject only where one is named";
  m.sqlite = idempotency::SubjectIndexWhereSetSql();
  return m;
}

// FindDuplicates pairs customers sharing a phone from the tenant's search index in memory,
// as it pairs emails: customer_phones_by_e164, which served only that, goes. Every new
// phone added an entry at a random place of it.
db::Migration SamePhoneFromTheIndex(int version) {
  return {version, "same-phone duplicates from the search index",
          "DROP INDEX customer_phones_by_e164;\n", /*postgres: the same*/ ""};
}

}  // namespace

std::vector<db::Migration> Migrations() {
  std::vector<db::Migration> all = {
      events::OutboxMigration(1),
      // Position in ledger-svc's event stream, for the per-customer stats projection.
      events::CursorMigration(2),
      // Versions 3-19: the directory.
      CustomerDirectory(3),
      DirectoryFeatures(4),
      CustomerOperations(5),
      LeanerDirectoryIndexes(6),
      NoStatisticsOnMessages(7),
      SubjectIndexWhereSet(8),
      SamePhoneFromTheIndex(9),
  };
  // Versions 20-39: search index, stats projection and list indexes (customer_query.h).
  for (db::Migration& m : store::CustomerQueryMigrations()) all.push_back(std::move(m));
  // Versions 40-49: the stats feed (ledger_stats_feed.h). 40: the projection is rebuilt
  // from the ledger's stream once balances are net of credit.
  all.push_back(store::LedgerStatsReplayMigration(40));
  // Version 50: where PostgreSQL writers stage events for the sequencer
  // (outbox_sequencer.h).
  all.push_back(events::OutboxStagingMigration(50));
  // Version 51: which replica consumes ledger-svc's stream (event_consumer.h).
  all.push_back(events::CursorLeaseMigration(51));
  // Version 52: every search reads the customers staged for the sequencer
  // (search_index_cache.h), by an index rather than over the whole staging table.
  all.push_back(events::OutboxStagingByTypeMigration(52));
  return all;
}

}  // namespace kelola::customer
