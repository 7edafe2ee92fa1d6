#pragma once

// MergeCustomers / GetMergeOperation (C7): the merge saga of ARCHITECTURE.md, recorded in
// customer-svc's database (store/customer_operations.h):
//   1. Start: the operation is recorded PENDING and the source becomes MERGING (no sale is
//      accepted for it from then on), in one transaction with the checks.
//   2. Ledger: ledger-svc moves the source's whole history to the target in one ledger
//      transaction, idempotently by the operation id -> LEDGER_MOVED. A refusal -> FAILED,
//      and the source returns to its previous state. No answer -> stays PENDING.
//   3. Finalize: the target receives the source's data (domain/customer_merge.h), the
//      source becomes a MERGED pointer, pointers to the source are re-pointed -> SUCCEEDED.
// Each step advances the operation only from the state it read, in the transaction that
// does the step's work, so a step runs exactly once however many runners (the request,
// the background resumer after a restart) attempt it.

#include <string>

#include "absl/status/statusor.h"
#include "customer-svc/app/ledger_protocol.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"
#include "libs/server/request_context.h"

namespace kelola::customer::app {

class CustomerMergeSaga {
 public:
  CustomerMergeSaga(store::DirectoryStore& store, LedgerProtocol& ledger, ids::IdGenerator& ids,
                    const Clock& clock)
      : store_(store), ledger_(ledger), ids_(ids), clock_(clock) {}

  // Starts the merge (or finds the one this request_id started) and drives it as far as
  // it gets now; returns the operation in the state reached.
  absl::StatusOr<v1::MergeOperation> Merge(const server::RequestContext& rc,
                                           const v1::MergeCustomersRequest& request);

  absl::StatusOr<v1::MergeOperation> Get(const server::RequestContext& rc,
                                         const std::string& merge_operation_id);

  // Drives every unfinished operation (all tenants) as far as it gets now; returns the
  // first error after trying all of them.
  absl::Status ResumeOpen();

  // Drives one operation until it is finished or blocked on the ledger.
  absl::StatusOr<v1::MergeOperation> Drive(const std::string& tenant, const std::string& id);

 private:
  absl::StatusOr<v1::MergeOperation> Load(const std::string& tenant, const std::string& id);
  // Step 2's outcomes.
  absl::Status MarkLedgerMoved(const std::string& tenant, const v1::MergeOperation& op);
  absl::Status Fail(const std::string& tenant, const v1::MergeOperation& op,
                    const absl::Status& refusal);
  // Step 3.
  absl::Status Finalize(const std::string& tenant, const v1::MergeOperation& op);

  store::DirectoryStore& store_;
  LedgerProtocol& ledger_;
  ids::IdGenerator& ids_;
  [[maybe_unused]] const Clock& clock_;  // not read yet
};

}  // namespace kelola::customer::app
