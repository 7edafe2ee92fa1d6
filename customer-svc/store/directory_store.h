#pragma once

// The customer directory's repository (customers, phones, categories, price lists, tenant
// settings, consent history, idempotency records), as a unit of work: handlers run their
// reads and writes in one DirectoryTx, so that a change, its duplicate checks, its limit
// check, its events (outbox) and its idempotency record commit together or not at all.
//
// Duplicate prevention (C6) is enforced by the unique indexes on customers.email_dedupe and
// customer_phones.e164_dedupe (migration 3). Writes check first so that the usual case gets
// a precise error; a concurrent writer that slips past the check makes the insert fail with
// a unique violation, which Write() maps to the same CUSTOMER_DUPLICATE error by looking up
// the conflicting row after the rollback.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "kelola/customer/v1/category.pb.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/customer/v1/events.pb.h"
#include "kelola/customer/v1/tenant.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"

namespace kelola::customer::store {

struct StoredCustomer {
  v1::Customer customer;  // as saved (etag, times and state included; no stats)
  int64_t version = 0;
  bool duplicate_allowed = false;
};

// What a write stores about a customer. The store derives the index columns from it:
// name_folded, name_sort_key (in `collation_locale`), email, birthday, consent, and the
// *_dedupe columns (set only while the customer is ACTIVE and !duplicate_allowed).
struct CustomerRecord {
  v1::Customer customer;
  int64_t version = 0;
  bool duplicate_allowed = false;
  std::string collation_locale = "id";
};

// A new customer with what its creation writes besides its row: its CustomerCreated event
// and, under a scope given with it, the key (an import row's fingerprint) that finds it again.
struct NewCustomerWrite {
  CustomerRecord record;
  v1::CustomerCreated event;
  std::string key;
};

struct StoredSettings {
  v1::TenantSettings settings;  // defaults when none are stored
  int64_t version = 0;          // 0 = defaults, nothing stored
};

struct StoredCategory {
  v1::Category category;  // as saved (customer_count and price_list_entry_count not set)
  int64_t version = 0;
};

struct ConsentRecord {
  v1::MarketingConsent consent;
  std::string principal;
  absl::Time record_time;
};

struct BirthdayRow {
  v1::Customer customer;
};

// One transaction of the directory for one tenant. Obtained from DirectoryStore only.
class DirectoryTx {
 public:
  virtual ~DirectoryTx() = default;

  virtual const std::string& tenant_id() const = 0;
  // The database transaction underneath, for the repositories of store/ that read or write
  // in the same unit of work (CategoryRecords, OperationRecords, PrivacyRecords,
  // RememberedKeys, DirectoryQueries); app/ and api/ go through those.
  virtual db::Transaction& transaction() = 0;
  virtual absl::Time now() const = 0;
  // Who writes and the request's id (WriteOptions); empty in a read.
  virtual const std::string& principal() const = 0;
  virtual const std::string& request_id() const = 0;

  // Tenant settings (defaults when none are stored).
  virtual absl::StatusOr<StoredSettings> Settings() = 0;
  virtual absl::Status PutSettings(const v1::TenantSettings& settings, int64_t version) = 0;

  // Customers.
  virtual absl::StatusOr<std::optional<StoredCustomer>> FindCustomer(absl::string_view id) = 0;
  // ALREADY_EXISTS CUSTOMER_DUPLICATE (metadata existing_customer_id, existing_display_name,
  // field, value) when another customer counted for duplicate checks has one of the phones
  // or the email of `customer`.
  virtual absl::Status CheckDuplicates(const v1::Customer& customer) = 0;
  // Which of `e164s` and `emails` some customer holds for duplicate checks (C6: the values
  // CheckDuplicates looks for), read at once; an empty set means none of them would conflict.
  virtual absl::StatusOr<absl::flat_hash_set<std::string>> HeldContacts(
      const std::vector<std::string>& e164s, const std::vector<std::string>& emails) = 0;
  virtual absl::Status InsertCustomer(const CustomerRecord& record) = 0;
  // Replaces the row and the phones of record.customer.customer_id.
  virtual absl::Status UpdateCustomer(const CustomerRecord& record) = 0;
  // Deletes the customer for good (C4): its row, phones and consent history (and, through
  // the write hook, its search and stats entries), and records the id as deleted.
  virtual absl::Status DeleteCustomer(absl::string_view id) = 0;
  // Whether the id belonged to a deleted customer (ids are never reused).
  virtual absl::StatusOr<bool> IsDeleted(absl::string_view id) = 0;
  // Customers counted toward the plan limit (C16): ACTIVE, ARCHIVED, MERGING. With `lock`
  // the tenant's settings row is locked first, so that concurrent creates count in turn.
  virtual absl::StatusOr<int64_t> CountLimitedCustomers(bool lock) = 0;
  // Active customers with a birthday on one of the (month, day) pairs.
  virtual absl::StatusOr<std::vector<v1::Customer>> BirthdayCandidates(
      const std::vector<std::pair<int, int>>& month_days) = 0;

  // The customer the idempotency record of this write is about (erasure scrubs it).
  virtual void SetIdempotencySubject(absl::string_view customer_id) = 0;

  // Runs `fn` inside a SAVEPOINT of this transaction: when `fn` fails, everything it wrote is
  // rolled back (the rest of the transaction stays) and its status is returned. For imports,
  // which apply many rows per transaction, each row on its own.
  virtual absl::Status InSavepoint(const std::function<absl::Status()>& fn) = 0;
  // Writes new customers as InsertCustomer, Emit (aggregate "customer", version 1) and
  // RememberedKeys::Put(key_scope, key) would for each, in that order, with multi-row statements
  // per table (deferred: errors come as Sync reports them). For an import's rows whose
  // checks (id, duplicates, plan limit) have all run.
  virtual absl::Status InsertNewCustomers(absl::string_view key_scope,
                                          const std::vector<NewCustomerWrite>& customers) = 0;
  // Waits for the statements of this transaction that were sent without waiting (writes
  // whose result nobody reads; PostgreSQL pipelines them) and returns the first error among
  // them, which an ordinary read or write would otherwise report as its own.
  virtual absl::Status Sync() = 0;

  // Appends an event to the outbox (same transaction).
  virtual absl::Status Emit(absl::string_view aggregate_type, absl::string_view aggregate_id,
                            int64_t aggregate_version,
                            const google::protobuf::Message& payload) = 0;
};

// Who writes, and the idempotency key of the write (AIP-155).
struct WriteOptions {
  std::string principal;
  std::string request_id;  // for events
  // Idempotency: when `idempotency_key` is not empty, the first successful write stores
  // `response` under (tenant, scope, key) with `request_hash`; a later write with the same
  // key and hash returns that response without running the function; with another hash it
  // fails with ALREADY_EXISTS REQUEST_ID_REUSED.
  std::string scope;
  std::string idempotency_key;
  std::string request_hash;
  // Further keys checked and recorded the same way (e.g. a client-supplied customer id).
  std::vector<std::pair<std::string, std::string>> extra_keys;  // (scope, key)
  // One of a run of large writes (an import's batches): it commits in a transaction of its
  // own instead of sharing one with concurrent writes (DirectoryStoreOptions::writer), so
  // that they do not wait for it, and as a bulk write (db::TransactionOptions::bulk_write).
  bool bulk = false;
};

using TxFn = std::function<absl::Status(DirectoryTx&)>;

class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;
  // Runs `fn` in a write transaction for `tenant_id` (see WriteOptions). `response` is
  // filled by `fn` (or from the idempotency record on a replay).
  virtual absl::Status Write(absl::string_view tenant_id, const WriteOptions& options,
                             const TxFn& fn, google::protobuf::Message* response) = 0;
  // Runs `fn` in a read-only transaction.
  virtual absl::Status Read(absl::string_view tenant_id, const TxFn& fn) = 0;
  // Read for a read that visits each page once (one page of an export): its transaction is
  // a bulk read (db::TransactionOptions::bulk_read), kept off the page caches that
  // interactive reads rely on.
  virtual absl::Status BulkRead(absl::string_view tenant_id, const TxFn& fn) = 0;
  // After a bulk write (an import batch): brings the database's planner statistics up to
  // date when the directory changed much since they were gathered. PostgreSQL keeps a
  // statement's plan per connection; a plan made while the tables were nearly empty
  // (before autovacuum's next round) can scan every customer for one duplicate check.
  // SQLite plans without such statistics: nothing to do. `rows_written` is what the caller
  // wrote since its last refresh: PostgreSQL's own change counters lag behind by up to a
  // second (they are flushed at most once a second), so the caller's count decides too.
  // Answers whether the statistics were refreshed.
  virtual absl::StatusOr<bool> RefreshStatistics(int64_t rows_written) = 0;

  // A run of bulk writes (WriteOptions::bulk) has ended: what they left in SQLite's log is
  // copied into the file now rather than at the next ordinary write
  // (db::Database::BulkWritesEnded).
  virtual void BulkWritesEnded() = 0;
};

// Called in the writing transaction after every write of a customer row and its phones
// (create, update, archive, restore, consent, erase, category reassignment, merge) with the
// customer as written, and after a delete with nullptr, e.g. to keep the stats rows of
// customer_query.h in step (its KeepStatsRow has this signature). A non-OK status rolls
// the write back.
using CustomerWrittenHook =
    std::function<absl::Status(db::Transaction& tx, absl::string_view tenant_id,
                               absl::string_view customer_id, const v1::Customer* written)>;

// Runs in the transaction that inserted the new customers `ids` (InsertNewCustomers), in
// place of a CustomerWrittenHook call for each.
using CustomersInsertedHook = std::function<absl::Status(
    db::Transaction& tx, absl::string_view tenant_id, const std::vector<std::string>& ids)>;

struct DirectoryStoreOptions {
  CustomerWrittenHook on_customer_written;  // optional
  // Optional; without it InsertNewCustomers calls on_customer_written for each customer.
  CustomersInsertedHook on_customers_inserted;
  // Runs the write transactions, e.g. a db::GroupCommitter so that concurrent writes share
  // one durable commit; nullptr = one transaction per write.
  db::TransactionRunner* writer = nullptr;
};

// The SQL implementation over libs/db (SQLite and PostgreSQL).
std::unique_ptr<DirectoryStore> NewSqlDirectoryStore(db::Database& db, const Clock& clock,
                                                     const events::Outbox& outbox,
                                                     DirectoryStoreOptions options = {});

}  // namespace kelola::customer::store
