#include "ledger-svc/app/refund_sale.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger-svc/app/sale_change.h"
#include "ledger-svc/store/entry_writes.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {

using entries::Err;

absl::Status CheckReturnedLines(const RefundSaleCommand& cmd, const v1::Sale& sale) {
  errors::FieldErrors fields;
  for (size_t i = 0; i < cmd.items.size(); ++i) {
    const auto& item = cmd.items[i];
    if (item.item_index() < 0 || item.item_index() >= sale.items_size()) {
      fields.Add(absl::StrCat("items[", i, "].item_index"), "no such line in the sale");
      continue;
    }
    const auto& line = sale.items(item.item_index());
    if (item.quantity_milli() > line.quantity_milli() - line.refunded_quantity_milli()) {
      fields.Add(absl::StrCat("items[", i, "].quantity_milli"),
                 "more than is left to refund on the line");
    }
  }
  return fields.ToStatus();
}

std::vector<std::pair<std::string, int64_t>> ReleaseNewestFirst(
    const std::vector<std::pair<std::string, int64_t>>& net_allocations, int64_t returned) {
  std::vector<std::pair<std::string, int64_t>> out;
  int64_t left = returned;
  for (auto it = net_allocations.rbegin(); it != net_allocations.rend() && left > 0; ++it) {
    const int64_t take = std::min(left, it->second);
    out.emplace_back(it->first, take);
    left -= take;
  }
  return out;
}

v1::Refund NewRefundRecord(const LedgerContext& ctx, const RefundSaleCommand& cmd,
                           const std::string& refund_id, const std::string& sale_store_id,
                           int64_t debt_reduction, int64_t returned) {
  v1::Refund refund;
  refund.set_refund_id(refund_id);
  refund.set_sale_id(cmd.sale_id);
  refund.set_store_id(cmd.store_id.empty() ? sale_store_id : cmd.store_id);
  *refund.mutable_amount() = entries::M(cmd.amount, ctx.currency);
  *refund.mutable_debt_reduction() = entries::M(debt_reduction, ctx.currency);
  *refund.mutable_returned_amount() = entries::M(returned, ctx.currency);
  refund.set_settlement(cmd.credit() ? v1::REFUND_SETTLEMENT_CREDIT
                                     : v1::REFUND_SETTLEMENT_PAY_OUT);
  if (!cmd.credit()) {
    refund.set_payout_method(cmd.payout_method == v1::PAYMENT_METHOD_UNSPECIFIED
                                 ? v1::PAYMENT_METHOD_CASH
                                 : cmd.payout_method);
  }
  for (const v1::RefundItem& item : cmd.items) *refund.add_items() = item;
  refund.set_reason(cmd.reason);
  refund.set_recorded_by(ctx.principal);
  refund.set_request_id(cmd.request_id);
  return refund;
}

// One run of the write: what it decided so far.
struct RefundSale::Write {
  Write(db::Transaction& tx, const LedgerContext& ctx, const RefundSaleCommand& cmd,
        absl::CivilDay today, int64_t now_micros)
      : tx(tx), ctx(ctx), cmd(cmd), today(today), now_micros(now_micros) {}

  db::Transaction& tx;
  const LedgerContext& ctx;
  const RefundSaleCommand& cmd;
  absl::CivilDay today;
  int64_t now_micros = 0;
  SaleOwner owner;
  entries::SaleFacts facts;  // before the refund
};

absl::StatusOr<v1::RefundSaleResponse> RefundSale::Run(const LedgerContext& ctx,
                                                       const RefundSaleCommand& cmd,
                                                       const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::RefundSaleResponse>(
      ctx, "RefundSale", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::RefundSaleResponse& out) -> absl::Status {
        Write w(tx, ctx, cmd, today, now);
        LEDGER_ASSIGN_OR_RETURN(owner, LockSaleOwner(tx, ctx, cmd.sale_id));
        w.owner = std::move(owner);
        if (w.owner.customer.empty() && cmd.credit()) {
          return Err(absl::StatusCode::kInvalidArgument, "CUSTOMER_REQUIRED",
                     "a walk-in sale cannot be refunded as customer credit", {},
                     {{"settlement", "CREDIT needs a customer"}});
        }
        LEDGER_RETURN_IF_ERROR(Check(w));
        LEDGER_RETURN_IF_ERROR(Insert(w, out));
        return Respond(w, out);
      });
}

// The sale may be refunded this much, and these goods.
absl::Status RefundSale::Check(Write& w) const {
  LEDGER_ASSIGN_OR_RETURN(facts, entries::GetSaleFacts(w.tx, w.ctx, w.cmd.sale_id));
  if (facts.amounts.voided) {
    return Err(absl::StatusCode::kFailedPrecondition, "SALE_VOIDED", "the sale is voided",
               {{"sale_id", w.cmd.sale_id}});
  }
  const int64_t refundable = facts.amounts.net_total();
  if (w.cmd.amount > refundable) {
    return Err(
        absl::StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_SALE",
        "the refund is more than the sale's net total",
        {{"refundable", absl::StrCat(refundable)}, {"attempted", absl::StrCat(w.cmd.amount)}});
  }
  // Returned quantities against what is left on each line.
  LEDGER_ASSIGN_OR_RETURN(current,
                          entries::BuildSale(w.tx, w.ctx, facts, v1::SALE_VIEW_BASIC, w.today));
  LEDGER_RETURN_IF_ERROR(CheckReturnedLines(w.cmd, current));
  w.facts = std::move(facts);
  return absl::OkStatus();
}

// The allocations released by what is returned, and the refund.
absl::Status RefundSale::Insert(Write& w, v1::RefundSaleResponse& out) const {
  const RefundSaleCommand& cmd = w.cmd;
  const int64_t debt_reduction = std::min(cmd.amount, w.facts.amounts.outstanding());
  const int64_t returned = cmd.amount - debt_reduction;
  const std::string refund_id = ids_.NewId();
  if (returned > 0) {
    LEDGER_ASSIGN_OR_RETURN(net, entries::NetAllocationsBySale(w.tx, w.ctx, cmd.sale_id));
    for (const auto& [payment_id, take] : ReleaseNewestFirst(net, returned)) {
      LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(
          w.tx, w.ctx, ids_, w.now_micros, cmd.request_id, cmd.sale_id, payment_id, -take,
          v1::ALLOCATION_KIND_REFUND_RELEASE, refund_id, !cmd.credit()));
    }
  }
  v1::Refund refund =
      NewRefundRecord(w.ctx, cmd, refund_id, w.facts.record.store_id(), debt_reduction, returned);
  refund.set_customer_id(w.owner.customer);
  const int64_t refund_time = cmd.refund_time_micros.value_or(w.now_micros);
  if (refund_time < w.facts.sale_time_micros) {
    return Err(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
               "refund_time is before the sale", {}, {{"refund_time", "before the sale_time"}});
  }
  entries::SetTime(refund.mutable_refund_time(), refund_time);
  entries::SetTime(refund.mutable_record_time(), w.now_micros);
  LEDGER_RETURN_IF_ERROR(entries::InsertRefund(w.tx, w.ctx, refund, cmd.amount, refund_time));
  *out.mutable_refund() = std::move(refund);
  return absl::OkStatus();
}

// The refunded sale, the customer's statistics recomputed, and the event.
absl::Status RefundSale::Respond(Write& w, v1::RefundSaleResponse& out) const {
  v1::SaleRefunded event;
  LEDGER_ASSIGN_OR_RETURN(walk_in_version, RecordSaleChange(w.tx, w.ctx, w.cmd.sale_id, w.owner,
                                                            w.today, 1, out, event));
  *event.mutable_refund() = out.refund();
  *event.mutable_sale() = out.sale();
  *event.add_affected_sales() = entries::Position(out.sale());
  return entries::AppendEvent(writer_.outbox(), w.tx, w.ctx, w.owner.customer, out.ledger_version(),
                              w.cmd.sale_id, walk_in_version, event, w.cmd.request_id);
}

}  // namespace kelola::ledger
