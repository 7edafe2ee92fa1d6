#pragma once

// Keys the tenant's writes remembered with the customer they were for (idempotency_keys'
// subject_id): the fingerprint of each imported row, and a write's own request id (a delete
// asks which customer its request id deleted). The same row or request found again means
// that customer. A repository over DirectoryTx, as PrivacyRecords (privacy_records.h) is
// for consent.

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

class RememberedKeys {
 public:
  explicit RememberedKeys(DirectoryTx& tx);

  // The customer `key` in `scope` was recorded for, or nullopt.
  absl::StatusOr<std::optional<std::string>> SubjectOf(absl::string_view scope,
                                                       absl::string_view key);
  // SubjectOf many keys at once: key -> customer for the keys recorded.
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> SubjectsOf(
      absl::string_view scope, const std::vector<std::string>& keys);
  // Records (or re-points) `key` in `scope` to `customer_id`.
  absl::Status Put(absl::string_view scope, absl::string_view key, absl::string_view customer_id);

 private:
  db::Transaction& tx_;
  const std::string tenant_;
  const absl::Time now_;
};

// The values of the row RememberedKeys::Put writes, appended to `rows`, and the write of
// many such rows in multi-row statements: for the writes of a whole import batch.
void AppendKeySubjectRow(absl::string_view tenant, absl::string_view scope, absl::string_view key,
                         absl::string_view customer_id, absl::Time now,
                         std::vector<db::Value>* rows);
absl::Status PutKeySubjectRows(db::Transaction& tx, std::vector<db::Value> rows);

}  // namespace kelola::customer::store
