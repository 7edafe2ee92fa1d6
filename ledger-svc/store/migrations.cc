#include "ledger-svc/store/migrations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ledger-svc/store/directory_projection.h"
#include "libs/events/outbox.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::ledger {
namespace {

// The ledger: entries are only ever inserted. Derived amounts (paid, refunded,
// outstanding, credit) are sums over the entries; customer_ledgers is the per-customer
// projection maintained in the same transaction as each entry.
db::Migration LedgerTables(int version) {
  db::Migration m;
  m.version = version;
  m.name = "ledger entries, idempotency keys, customer ledgers, credit limits";
  m.sqlite = R"sql(
CREATE TABLE ledger_counters (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name));
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  rpc TEXT NOT NULL,
  request_id TEXT NOT NULL,
  request BLOB NOT NULL,
  response BLOB,
  create_time_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, rpc, request_id));
CREATE TABLE sales (
  tenant_id TEXT NOT NULL,
  sale_id TEXT NOT NULL,
  number BIGINT NOT NULL,
  customer_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  total BIGINT NOT NULL,
  sale_time_micros BIGINT NOT NULL,
  due_date TEXT,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, sale_id),
  UNIQUE (tenant_id, number));
CREATE INDEX sales_by_customer ON sales (tenant_id, customer_id, sale_time_micros, number);
CREATE INDEX sales_by_time ON sales (tenant_id, sale_time_micros, number);
CREATE TABLE payments (
  tenant_id TEXT NOT NULL,
  payment_id TEXT NOT NULL,
  number BIGINT NOT NULL,
  customer_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  method INTEGER NOT NULL,
  origin INTEGER NOT NULL,
  sale_id TEXT NOT NULL,
  received_time_micros BIGINT NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, payment_id),
  UNIQUE (tenant_id, number));
CREATE INDEX payments_by_customer ON payments (tenant_id, customer_id, received_time_micros, number);
CREATE INDEX payments_by_time ON payments (tenant_id, received_time_micros, number);
CREATE TABLE allocations (
  tenant_id TEXT NOT NULL,
  allocation_id TEXT NOT NULL,
  entry_seq BIGINT NOT NULL,
  sale_id TEXT NOT NULL,
  payment_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  refund_id TEXT NOT NULL,
  payout INTEGER NOT NULL,
  create_time_micros BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, allocation_id));
CREATE INDEX allocations_by_sale ON allocations (tenant_id, sale_id, entry_seq);
CREATE INDEX allocations_by_payment ON allocations (tenant_id, payment_id, entry_seq);
CREATE TABLE refunds (
  tenant_id TEXT NOT NULL,
  refund_id TEXT NOT NULL,
  entry_seq BIGINT NOT NULL,
  sale_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  refund_time_micros BIGINT NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, refund_id));
CREATE INDEX refunds_by_sale ON refunds (tenant_id, sale_id, entry_seq);
CREATE TABLE voids (
  tenant_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  void_time_micros BIGINT NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, entity, entity_id));
CREATE TABLE customer_ledgers (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  ledger_version BIGINT NOT NULL,
  balance BIGINT NOT NULL,
  credit BIGINT NOT NULL,
  category_id TEXT NOT NULL DEFAULT '',
  stats BLOB,
  PRIMARY KEY (tenant_id, customer_id));
CREATE INDEX customer_ledgers_by_balance ON customer_ledgers (tenant_id, balance);
CREATE TABLE credit_limits (
  tenant_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  limit_minor BIGINT NOT NULL,
  update_time_micros BIGINT NOT NULL,
  version BIGINT NOT NULL,
  deleted INTEGER NOT NULL,
  record BLOB NOT NULL,
  PRIMARY KEY (tenant_id, subject, subject_id));
)sql";
  return m;
}

// Every per-customer lookup of the write path goes through an index: the latest refund
// and void time of a customer (statistics) scanned the tenant's refunds and voids.
db::Migration CustomerIndexes(int version) {
  db::Migration m;
  m.version = version;
  m.name = "refunds and voids by customer";
  m.sqlite = R"sql(
CREATE INDEX refunds_by_customer ON refunds (tenant_id, customer_id, refund_time_micros);
CREATE INDEX voids_by_customer ON voids (tenant_id, customer_id, void_time_micros);
)sql";
  return m;
}

// The cross-service protocols of customer-svc (C4 delete, C7 merge):
// - customer_ledgers.seal_id: the delete operation that sealed the customer (no entry may
//   be added from then on); NULL when not sealed;
// - customer_ledgers.merged_into: the survivor the customer's history moved to;
// - sales/payments.reassigned_from: the customer an entry belonged to before a merge
//   moved it (the entry's customer_id names the survivor).
db::Migration CustomerProtocols(int version) {
  db::Migration m;
  m.version = version;
  m.name = "seals and merges";
  m.sqlite = R"sql(
ALTER TABLE customer_ledgers ADD COLUMN seal_id TEXT;
ALTER TABLE customer_ledgers ADD COLUMN merged_into TEXT;
ALTER TABLE sales ADD COLUMN reassigned_from TEXT;
ALTER TABLE payments ADD COLUMN reassigned_from TEXT;
)sql";
  return m;
}

// The last currency and time zone customer-svc reported for each tenant, so that a
// restarted ledger-svc can serve tenants it knows while customer-svc is down (the ledger
// never guesses them).
db::Migration TenantSettings(int version) {
  db::Migration m;
  m.version = version;
  m.name = "tenant settings as customer-svc last reported them";
  m.sqlite = R"sql(
CREATE TABLE tenant_settings (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  currency_code TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  update_time_micros BIGINT NOT NULL);
)sql";
  return m;
}

// The currency of each tenant's ledger history, pinned with its first entry: a currency
// customer-svc reports later is refused for writes while the tenant has entries
// (CURRENCY_LOCKED). Tenants that already have entries are pinned to the currency last
// reported, the one their entries were written in.
db::Migration LedgerCurrency(int version) {
  db::Migration m;
  m.version = version;
  m.name = "the currency each tenant's ledger history is in";
  m.sqlite = R"sql(
ALTER TABLE tenant_settings ADD COLUMN ledger_currency TEXT;
UPDATE tenant_settings SET ledger_currency = currency_code
  WHERE EXISTS (SELECT 1 FROM sales s WHERE s.tenant_id = tenant_settings.tenant_id)
     OR EXISTS (SELECT 1 FROM payments p WHERE p.tenant_id = tenant_settings.tenant_id)
     OR EXISTS (SELECT 1 FROM credit_limits c WHERE c.tenant_id = tenant_settings.tenant_id);
)sql";
  return m;
}

// Entry order of allocations on PostgreSQL from a sequence instead of the tenant's
// "allocation" counter row (InsertAllocation), continuing above every value
// the counters handed out. SQLite keeps the counter.
db::Migration AllocationSequence(int version) {
  db::Migration m;
  m.version = version;
  m.name = "allocation entry order from a sequence (PostgreSQL)";
  m.sqlite = "-- SQLite: entry order stays with ledger_counters (its single writer serializes)\n";
  m.postgres = R"sql(
CREATE SEQUENCE allocation_entry_seq;
SELECT setval('allocation_entry_seq',
              (SELECT COALESCE(MAX(value), 0) + 1 FROM ledger_counters WHERE name = 'allocation'),
              false);
)sql";
  return m;
}

// The remembered writes in the shape every service shares (libs/idempotency): `rpc`
// becomes `scope`, and a row keeps, instead of the request's serialized bytes, its hash.
// Rows stored before hold "bytes:" and the hex of those bytes, which idempotency::Print
// still matches, so a device retrying a request recorded before the upgrade still gets its
// response. A claim in progress had a NULL response; there is none in a committed table.
db::Migration SharedIdempotencyKeys(int version) {
  db::Migration m;
  m.version = version;
  m.name = "idempotency keys in the shared shape";
  const std::string create = idempotency::CreateTableSql();
  m.sqlite = absl::StrCat(R"sql(
ALTER TABLE idempotency_keys RENAME TO idempotency_keys_before;
)sql",
                          create, R"sql(
INSERT INTO idempotency_keys (tenant_id, scope, request_id, request_hash, response,
                              create_time_micros, subject_id)
  SELECT tenant_id, rpc, request_id, 'bytes:' || lower(hex(request)), COALESCE(response, X''),
         create_time_micros, NULL
  FROM idempotency_keys_before;
DROP TABLE idempotency_keys_before;
)sql");
  m.postgres = absl::StrCat(R"sql(
ALTER TABLE idempotency_keys RENAME TO idempotency_keys_before;
ALTER INDEX idempotency_keys_pkey RENAME TO idempotency_keys_before_pkey;
)sql",
                            absl::StrReplaceAll(create, {{"BLOB", "BYTEA"}}), R"sql(
INSERT INTO idempotency_keys (tenant_id, scope, request_id, request_hash, response,
                              create_time_micros, subject_id)
  SELECT tenant_id, rpc, request_id, 'bytes:' || encode(request, 'hex'),
         COALESCE(response, ''::bytea), create_time_micros, NULL
  FROM idempotency_keys_before;
DROP TABLE idempotency_keys_before;
)sql");
  return m;
}

// Index entries that every sale and payment wrote and no query reads: customer ledgers by
// balance (receivables are summed from the entries; the index also kept PostgreSQL from
// updating the ledger row heap-only), and the remembered writes' subject index, which
// holds, after this, only rows naming a subject (the ledger's name none).
db::Migration LeanerWriteIndexes(int version) {
  db::Migration m;
  m.version = version;
  m.name = "no index of customer ledgers by balance; subject index only where set";
  m.sqlite = absl::StrCat("DROP INDEX customer_ledgers_by_balance;\n",
                          idempotency::SubjectIndexWhereSetSql());
  return m;
}

// Where each customer's open sales begin (CustomerRow::settled_before): the oldest-first
// allocator reads a customer's sales from there instead of computing the outstanding
// amount of every settled sale first. NULL (every row now) reads from the first sale.
db::Migration SettledBefore(int version) {
  db::Migration m;
  m.version = version;
  m.name = "where each customer's open sales begin";
  m.sqlite = R"sql(
ALTER TABLE customer_ledgers ADD COLUMN settled_before_time BIGINT;
ALTER TABLE customer_ledgers ADD COLUMN settled_before_number BIGINT;
)sql";
  return m;
}

// The ledger version at which settled_before was written: the bound is trusted only at
// that version, so that a write that does not keep it (a ledger-svc from before migration
// 14, still running during a rolling upgrade) cannot leave a bound that is no longer true.
db::Migration SettledBeforeVersion(int version) {
  db::Migration m;
  m.version = version;
  m.name = "the ledger version at which settled_before was written";
  m.sqlite = "ALTER TABLE customer_ledgers ADD COLUMN settled_before_version BIGINT;\n";
  return m;
}

}  // namespace

std::vector<db::Migration> Migrations() {
  return {
      events::OutboxMigration(1),
      LedgerTables(2),
      CustomerIndexes(3),
      CustomerProtocols(4),
      TenantSettings(5),
      LedgerCurrency(6),
      // 7: where PostgreSQL writers stage events for the sequencer (outbox_sequencer.h).
      events::OutboxStagingMigration(7),
      // 8-9: the projection of customer-svc's directory (store/directory_projection.h) and
      // its position in customer-svc's event stream.
      events::CursorMigration(8),
      DirectoryProjectionMigration(9),
      AllocationSequence(10),
      // 11: which replica consumes customer-svc's stream (event_consumer.h).
      events::CursorLeaseMigration(11),
      SharedIdempotencyKeys(12),
      LeanerWriteIndexes(13),
      SettledBefore(14),
      SettledBeforeVersion(15),
  };
}

}  // namespace kelola::ledger
