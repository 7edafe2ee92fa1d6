#pragma once

// The sales a payment or the customer's credit goes to: those the client named, checked
// against the customer's sales inside the write, or the oldest open sales first.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/db/database.h"

namespace kelola::ledger {

// A sale and how much of it to pay, as the client named it.
struct AllocationTarget {
  std::string sale_id;
  int64_t amount = 0;
};

struct CheckedTargets {
  std::vector<PlannedAllocation> plan;  // the targets, in the client's order
  int64_t outstanding = 0;              // what the named sales owe together
};

// How ALLOCATION_EXCEEDS_OUTSTANDING names the amount: with the attempted amount and the
// outstanding one in the field's message (payments), or without (credit).
enum class ExceedDetail { kWithAmounts, kPlain };

// The named targets when each is a sale of `customer_id` (else INVALID_ARGUMENT
// ALLOCATION_FOREIGN_SALE naming every one that is not) owing at least its amount (else
// FAILED_PRECONDITION ALLOCATION_EXCEEDS_OUTSTANDING for the first that does not).
absl::StatusOr<CheckedTargets> CheckTargets(db::Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id,
                                            const std::vector<AllocationTarget>& targets,
                                            ExceedDetail detail);

// Up to `budget` over the customer's open sales, oldest first, and where the customer's
// open sales begin once it is allocated (SettledBeforeAfterPlan).
struct OldestFirstPlan {
  std::vector<PlannedAllocation> allocations;
  std::optional<SalePlace> settled_before;
};

// `settled_before`: the customer's row's (CustomerRow::settled_before), read from there.
absl::StatusOr<OldestFirstPlan> PlanOldestFirst(db::Transaction& tx, const LedgerContext& ctx,
                                                const std::string& customer_id, int64_t budget,
                                                std::optional<SalePlace> settled_before);

int64_t PlannedTotal(const std::vector<PlannedAllocation>& plan);

}  // namespace kelola::ledger
