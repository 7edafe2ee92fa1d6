#pragma once

// The ledger's side of customer-svc's cross-service protocols (ARCHITECTURE.md):
// - delete (C4): Seal refuses a customer with any history and otherwise marks it sealed,
//   in one transaction holding the customer's ledger row lock, so that a sale either
//   commits before the seal (and the seal is refused) or after it (and the sale is refused
//   by LockCustomer). Unseal undoes a seal when the delete failed; a seal withdrawn stays
//   withdrawn.
// - merge (C7): Reassign moves every entry of the source to the target and marks the
//   source merged, in one transaction holding both customers' rows (locked in id order,
//   so that two merges of one pair in opposite directions cannot deadlock).
// Each is idempotent by its operation id, so customer-svc can retry and resume after a
// crash. See docs/decisions/customer-delete-and-merge.md.

#include <string>

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_internal_service.pb.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::ledger {

// SealCustomer and UnsealCustomer.
struct SealCommand {
  std::string seal_id;
  std::string customer_id;
};

struct ReassignCommand {
  std::string merge_operation_id;
  std::string source_customer_id;
  std::string target_customer_id;
};

class CustomerProtocols {
 public:
  CustomerProtocols(LedgerWriter& writer, const Clock& clock) : writer_(writer), clock_(clock) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::SealCustomerResponse> Seal(const LedgerContext& ctx, const SealCommand& cmd,
                                                const idempotency::Print& print);
  absl::StatusOr<v1::UnsealCustomerResponse> Unseal(const LedgerContext& ctx,
                                                    const SealCommand& cmd,
                                                    const idempotency::Print& print);
  absl::StatusOr<v1::ReassignCustomerHistoryResponse> Reassign(const LedgerContext& ctx,
                                                               const ReassignCommand& cmd,
                                                               const idempotency::Print& print);

 private:
  struct Merge;
  absl::Status LockBoth(Merge& m) const;
  absl::Status Move(Merge& m, v1::ReassignCustomerHistoryResponse& out) const;
  absl::Status Respond(Merge& m, v1::ReassignCustomerHistoryResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
};

}  // namespace kelola::ledger
