#include "ledger-svc/app/allocation_targets.h"

#include "absl/strings/str_cat.h"
#include "ledger-svc/store/ledger_entries.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

absl::Status Exceeds(const AllocationTarget& target, size_t i, int64_t outstanding,
                     ExceedDetail detail) {
  const std::string field = absl::StrCat("allocations[", i, "].amount");
  if (detail == ExceedDetail::kPlain) {
    return entries::Err(absl::StatusCode::kFailedPrecondition, "ALLOCATION_EXCEEDS_OUTSTANDING",
                        "an allocation is more than the sale owes",
                        {{"sale_id", target.sale_id}, {"outstanding", absl::StrCat(outstanding)}},
                        {{field, "above the sale's outstanding amount"}});
  }
  return entries::Err(absl::StatusCode::kFailedPrecondition, "ALLOCATION_EXCEEDS_OUTSTANDING",
                      "an allocation is more than the sale owes",
                      {{"sale_id", target.sale_id},
                       {"outstanding", absl::StrCat(outstanding)},
                       {"attempted", absl::StrCat(target.amount)}},
                      {{field, absl::StrCat("above the sale's outstanding amount ", outstanding)}});
}

}  // namespace

absl::StatusOr<CheckedTargets> CheckTargets(db::Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id,
                                            const std::vector<AllocationTarget>& targets,
                                            ExceedDetail detail) {
  CheckedTargets out;
  errors::FieldErrors foreign;
  for (size_t i = 0; i < targets.size(); ++i) {
    const AllocationTarget& target = targets[i];
    LEDGER_ASSIGN_OR_RETURN(found, entries::FindSale(tx, ctx, target.sale_id));
    if (!found.has_value() || found->record.customer_id() != customer_id) {
      foreign.Add(absl::StrCat("allocations[", i, "].sale_id"), "not a sale of this customer");
      continue;
    }
    const int64_t outstanding = found->amounts.outstanding();
    if (target.amount > outstanding) return Exceeds(target, i, outstanding, detail);
    out.outstanding += outstanding;
    out.plan.push_back({target.sale_id, target.amount});
  }
  if (!foreign.empty()) return foreign.ToStatus("ALLOCATION_FOREIGN_SALE");
  return out;
}

absl::StatusOr<OldestFirstPlan> PlanOldestFirst(db::Transaction& tx, const LedgerContext& ctx,
                                                const std::string& customer_id, int64_t budget,
                                                std::optional<SalePlace> settled_before) {
  LEDGER_ASSIGN_OR_RETURN(open, entries::OpenSales(tx, ctx, customer_id, budget, settled_before));
  OldestFirstPlan out;
  out.allocations = AllocateOldestFirst(budget, open);
  out.settled_before = SettledBeforeAfterPlan(settled_before, open, out.allocations);
  return out;
}

int64_t PlannedTotal(const std::vector<PlannedAllocation>& plan) {
  int64_t total = 0;
  for (const auto& p : plan) total += p.amount;
  return total;
}

}  // namespace kelola::ledger
