#pragma once

// The records of customer-svc's cross-service operations (ARCHITECTURE.md "Cross-service
// protocols"), kept in the directory's database so that a crash or an unreachable
// ledger-svc never leaves one half done:
// - merge operations (C7): the saga's pending-operation row; PENDING -> LEDGER_MOVED ->
//   SUCCEEDED, or PENDING -> FAILED. Every step advances the row only from the state it
//   read (OperationRecords::AdvanceMerge), so a step that two runners attempt happens once.
// - pending deletes (C4): a delete between sealing the customer in the ledger and removing
//   it here; a pending delete left behind by a crash is undone (unsealed) later.
// OperationRecords reads and writes them in a directory transaction.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

struct MergeOperationRecord {
  v1::MergeOperation operation;
  // The source's state before it became MERGING, restored when the merge fails.
  v1::CustomerState previous_source_state = v1::CUSTOMER_STATE_UNSPECIFIED;
};

// Work to resume, across tenants.
struct OpenOperation {
  std::string tenant_id;
  std::string id;           // merge_operation_id, or the seal_id of a pending delete
  std::string customer_id;  // pending deletes: the customer
};

// How much unfinished work there is (all tenants), for metrics and alerts.
struct OpenOperationCounts {
  int64_t open_merges = 0;      // PENDING or LEDGER_MOVED
  int64_t pending_deletes = 0;  // between seal and removal, or abandoned
  // Age of the oldest of them (zero when none).
  absl::Duration oldest_age = absl::ZeroDuration();
};

// The operation records in one directory transaction: the tenant's, and the scans across
// tenants (a transaction opened for no tenant) that resume unfinished work.
class OperationRecords {
 public:
  explicit OperationRecords(DirectoryTx& tx);

  absl::Status InsertMerge(const MergeOperationRecord& record);
  absl::StatusOr<std::optional<MergeOperationRecord>> FindMerge(const std::string& id);
  // Stores `operation` (its new state and times) if the stored operation is still in state
  // `from`; false (nothing written) when another runner moved it on first.
  absl::StatusOr<bool> AdvanceMerge(v1::MergeOperationState from,
                                    const v1::MergeOperation& operation);
  // Whether an unfinished merge (PENDING or LEDGER_MOVED) has `customer_id` as its target.
  absl::StatusOr<bool> HasOpenMergeInto(const std::string& customer_id);
  // The merges with `customer_id` as source or target, oldest first.
  absl::StatusOr<std::vector<v1::MergeOperation>> MergesOf(const std::string& customer_id);
  // Ids of the customers that are MERGED pointers to `customer_id`.
  absl::StatusOr<std::vector<std::string>> CustomersMergedInto(const std::string& customer_id);

  // The seal_id of the customer's pending delete, if one is in progress.
  absl::StatusOr<std::optional<std::string>> PendingDeleteSeal(const std::string& customer_id);
  absl::Status PutPendingDelete(const std::string& customer_id, const std::string& seal_id,
                                absl::Time now);
  // Whether the pending delete was there (false: it was abandoned and undone meanwhile).
  absl::StatusOr<bool> RemovePendingDelete(const std::string& customer_id,
                                           const std::string& seal_id);

  // Across tenants: unfinished merges, oldest first; pending deletes recorded before
  // `created_before`, oldest first; how much unfinished work there is.
  absl::StatusOr<std::vector<OpenOperation>> OpenMerges(int limit);
  absl::StatusOr<std::vector<OpenOperation>> StalePendingDeletes(absl::Time created_before,
                                                                 int limit);
  absl::StatusOr<OpenOperationCounts> CountOpen(absl::Time now);

 private:
  db::Transaction& tx_;
  const std::string tenant_;
};

}  // namespace kelola::customer::store
