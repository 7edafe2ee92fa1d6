#pragma once

// ApplyCredit: the customer's credit (what its payments hold unallocated) pays its sales,
// in one write. Inside the write's transaction: the customer's row locked, its credit
// summed oldest first, the allocations planned (the sales the client named, checked, or
// the oldest open sales up to max_amount) and taken from the oldest credit first; the
// allocations inserted; the statistics recomputed; the event appended. Nothing to apply
// changes nothing.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/app/allocation_targets.h"
#include "ledger-svc/domain/credit_rules.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

namespace kelola::ledger {

// Credit to apply (validated by the api layer); amounts in minor units.
struct ApplyCreditCommand {
  std::string request_id;
  std::string customer_id;
  std::vector<AllocationTarget> allocations;  // empty: the oldest open sales first
  std::optional<int64_t> max_amount;          // with no allocations named: at most this
};

// OK unless the named allocations want more than the customer's `credit`
// (FAILED_PRECONDITION INSUFFICIENT_CREDIT).
absl::Status CheckCreditCovers(int64_t wanted, int64_t credit);

class ApplyCredit {
 public:
  ApplyCredit(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::ApplyCreditResponse> Run(const LedgerContext& ctx,
                                              const ApplyCreditCommand& cmd,
                                              const idempotency::Print& print);

 private:
  absl::StatusOr<std::vector<PlannedAllocation>> Plan(
      db::Transaction& tx, const LedgerContext& ctx, const ApplyCreditCommand& cmd, int64_t credit,
      std::optional<SalePlace> settled_before) const;
  absl::Status Respond(db::Transaction& tx, const LedgerContext& ctx, const ApplyCreditCommand& cmd,
                       const entries::CustomerRow& before,
                       const std::vector<PlannedAllocation>& plan,
                       const std::set<std::string>& created, absl::CivilDay today,
                       v1::ApplyCreditResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::ledger
