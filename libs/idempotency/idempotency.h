#pragma once

// Remembered writes (AIP-155): one table, `idempotency_keys`, of the same shape in every
// service's database, and one rule for "the same request". A write stores its response
// under (tenant, scope, request_id) in its own transaction; a write that comes again with
// the same key gets that response back, and one with the same key but a different request
// is refused (REQUEST_ID_REUSED). The key's syntax is libs/request_id's.
//
// Columns: tenant_id, scope (the RPC or operation the key belongs to), request_id,
// request_hash (Print::hash of the request), response (the serialized response; empty
// while the write that claimed the key is running), create_time_micros, subject_id (the
// customer the response is about, so that erasure can scrub it; NULL when none).

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "libs/db/database.h"

namespace kelola::idempotency {

// The statements that create the table and its index, for a service's migration.
std::string CreateTableSql();

// The statements that make the subject index hold only the rows that name a subject, for a
// service's later migration: a write that remembers no subject (every sale and payment of
// the ledger) then adds no entry to it. Erasure's lookup (subject_id = ?) reads it as
// before.
std::string SubjectIndexWhereSetSql();

// What "the same request" means: the request's deterministic serialization, hashed to 128
// bits (32 hex digits plus its length in hex). Stable across builds and processes.
std::string Fingerprint(const google::protobuf::Message& request);

// A request's fingerprint, and how to recognize it in a stored row.
class Print {
 public:
  explicit Print(const google::protobuf::Message& request);
  const std::string& hash() const { return hash_; }
  // Whether `stored` (a row's request_hash) was made from this request. Rows that
  // ledger-svc stored before this library hold "bytes:" and the hex of the serialization
  // itself (migrated as they were); they match too, so that a device retrying an old
  // request still gets its response.
  bool Matches(absl::string_view stored) const;

 private:
  std::string bytes_;  // the deterministic serialization
  std::string hash_;
};

struct Key {
  std::string tenant_id;
  std::string scope;
  std::string request_id;
};

struct Stored {
  std::string request_hash;
  std::string response;  // empty: claimed by a write not committed yet (never seen outside it)
};

// The row of `key`, if any.
absl::StatusOr<std::optional<Stored>> Lookup(db::Transaction& tx, const Key& key);

// Claims `key` for the write running in `tx`: a deferred insert (no round trip of its own on
// PostgreSQL). When the key was taken before, the insert's unique violation fails the
// transaction (IsClaimTaken); look the stored response up then.
absl::Status Claim(db::Transaction& tx, const Key& key, const Print& print, absl::Time now);
// Stores the response of the write that claimed `key` (deferred).
absl::Status Remember(db::Transaction& tx, const Key& key, const std::string& response);
// Claim and Remember in one statement, for a write that knows its response before it
// records it. `subject_id` "" = NULL.
absl::Status Record(db::Transaction& tx, const Key& key, absl::string_view request_hash,
                    const std::string& response, absl::Time now, absl::string_view subject_id);

// Whether `status` is the unique violation of a second claim of one key.
bool IsClaimTaken(const absl::Status& status);

}  // namespace kelola::idempotency
