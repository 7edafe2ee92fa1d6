#include "ledger-svc/app/apply_credit.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kelola::ledger {

absl::Status CheckCreditCovers(int64_t wanted, int64_t credit) {
  if (wanted <= credit) return absl::OkStatus();
  return entries::Err(absl::StatusCode::kFailedPrecondition, "INSUFFICIENT_CREDIT",
                      "the allocations are more than the customer's credit",
                      {{"credit", absl::StrCat(credit)}, {"attempted", absl::StrCat(wanted)}});
}

absl::StatusOr<v1::ApplyCreditResponse> ApplyCredit::Run(const LedgerContext& ctx,
                                                         const ApplyCreditCommand& cmd,
                                                         const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::ApplyCreditResponse>(
      ctx, "ApplyCredit", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::ApplyCreditResponse& out) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(before, entries::LockCustomer(tx, ctx, cmd.customer_id));
        LEDGER_ASSIGN_OR_RETURN(sources, entries::CreditSources(tx, ctx, cmd.customer_id));
        LEDGER_ASSIGN_OR_RETURN(credit, TotalCredit(sources));
        LEDGER_ASSIGN_OR_RETURN(plan, Plan(tx, ctx, cmd, credit, before.settled_before));
        std::vector<int64_t> amounts;
        for (const auto& target : plan) amounts.push_back(target.amount);
        LEDGER_ASSIGN_OR_RETURN(takes, TakeCreditOldestFirst(amounts, sources));
        int64_t applied = 0;
        std::set<std::string> created;
        for (const CreditTake& take : takes) {
          std::string id;
          LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(
              tx, ctx, ids_, now, cmd.request_id, plan[take.target].sale_id, take.payment_id,
              take.amount, v1::ALLOCATION_KIND_CREDIT, "", false, &id));
          created.insert(id);
          applied += take.amount;
        }
        *out.mutable_applied_amount() = entries::M(applied, ctx.currency);
        if (applied == 0) {
          out.set_ledger_version(before.version);
          LEDGER_ASSIGN_OR_RETURN(
              st, entries::ComputeStats(tx, ctx, cmd.customer_id, before.version, today));
          *out.mutable_customer_stats() = std::move(st);
          return absl::OkStatus();
        }
        return Respond(tx, ctx, cmd, before, plan, created, today, out);
      });
}

// The named sales (checked, and covered by the credit), else the oldest open sales up to
// the credit and max_amount.
absl::StatusOr<std::vector<PlannedAllocation>> ApplyCredit::Plan(
    db::Transaction& tx, const LedgerContext& ctx, const ApplyCreditCommand& cmd, int64_t credit,
    std::optional<SalePlace> settled_before) const {
  if (!cmd.allocations.empty()) {
    LEDGER_ASSIGN_OR_RETURN(
        checked, CheckTargets(tx, ctx, cmd.customer_id, cmd.allocations, ExceedDetail::kPlain));
    LEDGER_RETURN_IF_ERROR(CheckCreditCovers(PlannedTotal(checked.plan), credit));
    return std::move(checked.plan);
  }
  int64_t budget = credit;
  if (cmd.max_amount.has_value()) budget = std::min(budget, *cmd.max_amount);
  // Read from where the customer's open sales begin; the write leaves it unknown again
  // (BumpCustomer's default), as every write other than sales and payments does.
  LEDGER_ASSIGN_OR_RETURN(plan, PlanOldestFirst(tx, ctx, cmd.customer_id, budget, settled_before));
  return std::move(plan.allocations);
}

// The sales paid and the allocations made, the statistics recomputed, and the event.
absl::Status ApplyCredit::Respond(db::Transaction& tx, const LedgerContext& ctx,
                                  const ApplyCreditCommand& cmd, const entries::CustomerRow& before,
                                  const std::vector<PlannedAllocation>& plan,
                                  const std::set<std::string>& created, absl::CivilDay today,
                                  v1::ApplyCreditResponse& out) const {
  v1::CreditApplied event;
  for (const auto& target : plan) {
    LEDGER_ASSIGN_OR_RETURN(sf, entries::GetSaleFacts(tx, ctx, target.sale_id));
    LEDGER_ASSIGN_OR_RETURN(sale, entries::BuildSale(tx, ctx, sf, v1::SALE_VIEW_FULL, today));
    for (const auto& a : sale.allocations()) {
      if (created.count(a.allocation_id()) > 0) *out.add_allocations() = a;
    }
    sale.clear_allocations();
    sale.clear_refunds();
    *event.add_affected_sales() = entries::Position(sale);
    *out.add_affected_sales() = std::move(sale);
  }
  LEDGER_ASSIGN_OR_RETURN(
      stats, entries::BumpAndRecord(tx, ctx, cmd.customer_id, before, today, nullptr, out, event));
  *event.mutable_allocations() = out.allocations();
  return entries::AppendEvent(writer_.outbox(), tx, ctx, cmd.customer_id, stats.ledger_version(),
                              "", 0, event, cmd.request_id);
}

}  // namespace kelola::ledger
