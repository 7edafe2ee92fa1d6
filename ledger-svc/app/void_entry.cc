#include "ledger-svc/app/void_entry.h"

#include "absl/strings/str_cat.h"
#include "ledger-svc/app/sale_change.h"
#include "ledger-svc/store/entry_writes.h"

namespace kelola::ledger {
namespace {

using entries::Err;

v1::VoidInfo NewVoidInfo(const LedgerContext& ctx, const std::string& reason,
                         const std::string& request_id, int64_t now_micros) {
  v1::VoidInfo info;
  info.set_reason(reason);
  entries::SetTime(info.mutable_void_time(), now_micros);
  info.set_voided_by(ctx.principal);
  info.set_request_id(request_id);
  return info;
}

}  // namespace

int64_t ReleasedCredit(const std::vector<std::pair<std::string, int64_t>>& net_allocations,
                       const std::string& own_payment) {
  int64_t released = 0;
  for (const auto& [payment_id, amount] : net_allocations) {
    if (payment_id != own_payment) released += amount;
  }
  return released;
}

absl::Status CheckRelease(const VoidSaleCommand& cmd, int64_t released_credit) {
  if (released_credit <= 0 || cmd.release_payments_as_credit) return absl::OkStatus();
  return Err(absl::StatusCode::kFailedPrecondition, "SALE_HAS_PAYMENTS",
             "later payments or credit are allocated to the sale; set "
             "release_payments_as_credit to keep them as customer credit",
             {{"sale_id", cmd.sale_id}, {"allocated", absl::StrCat(released_credit)}});
}

// ---------------------------------------------------------------------------------
// VoidSale

// One run of the write: what it decided so far.
struct VoidSale::Write {
  Write(db::Transaction& tx, const LedgerContext& ctx, const VoidSaleCommand& cmd,
        absl::CivilDay today, int64_t now_micros)
      : tx(tx), ctx(ctx), cmd(cmd), today(today), now_micros(now_micros) {}

  db::Transaction& tx;
  const LedgerContext& ctx;
  const VoidSaleCommand& cmd;
  absl::CivilDay today;
  int64_t now_micros = 0;
  SaleOwner owner;
  std::string own_payment;  // the payment made with the sale
  int64_t released_credit = 0;
  v1::VoidInfo info;
  std::vector<std::string> other_sales;  // paid by the own payment's credit
};

absl::StatusOr<v1::VoidSaleResponse> VoidSale::Run(const LedgerContext& ctx,
                                                   const VoidSaleCommand& cmd,
                                                   const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::VoidSaleResponse>(
      ctx, "VoidSale", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::VoidSaleResponse& out) -> absl::Status {
        Write w(tx, ctx, cmd, today, now);
        LEDGER_ASSIGN_OR_RETURN(owner, LockSaleOwner(tx, ctx, cmd.sale_id));
        w.owner = std::move(owner);
        LEDGER_RETURN_IF_ERROR(Release(w));
        w.info = NewVoidInfo(ctx, cmd.reason, cmd.request_id, now);
        LEDGER_RETURN_IF_ERROR(
            entries::InsertVoid(tx, ctx, "sale", cmd.sale_id, w.owner.customer, w.info));
        if (!w.own_payment.empty()) LEDGER_RETURN_IF_ERROR(VoidOwnPayment(w, out));
        return Respond(w, out);
      });
}

// Refuses a sale voided already, and releases every allocation to it.
absl::Status VoidSale::Release(Write& w) const {
  LEDGER_ASSIGN_OR_RETURN(facts, entries::GetSaleFacts(w.tx, w.ctx, w.cmd.sale_id));
  if (facts.amounts.voided) {
    return Err(absl::StatusCode::kFailedPrecondition, "SALE_VOIDED", "the sale is already voided",
               {{"sale_id", w.cmd.sale_id}});
  }
  w.own_payment = facts.record.sale_payment_id();
  LEDGER_ASSIGN_OR_RETURN(net, entries::NetAllocationsBySale(w.tx, w.ctx, w.cmd.sale_id));
  w.released_credit = ReleasedCredit(net, w.own_payment);
  LEDGER_RETURN_IF_ERROR(CheckRelease(w.cmd, w.released_credit));
  for (const auto& [payment_id, amount] : net) {
    LEDGER_RETURN_IF_ERROR(
        entries::InsertAllocation(w.tx, w.ctx, ids_, w.now_micros, w.cmd.request_id, w.cmd.sale_id,
                                  payment_id, -amount, v1::ALLOCATION_KIND_SALE_VOID_RELEASE));
  }
  return absl::OkStatus();
}

// Voids the payment made with the sale (unless voided already) with what of it was applied
// to other sales, and answers it.
absl::Status VoidSale::VoidOwnPayment(Write& w, v1::VoidSaleResponse& out) const {
  LEDGER_ASSIGN_OR_RETURN(pf, entries::GetPaymentFacts(w.tx, w.ctx, w.own_payment));
  if (!pf.voided) {
    LEDGER_RETURN_IF_ERROR(
        entries::InsertVoid(w.tx, w.ctx, "payment", w.own_payment, w.owner.customer, w.info));
    // Credit of the sale's payment (from a refund kept as credit) may have been applied to
    // other sales: those allocations go with the voided payment.
    LEDGER_ASSIGN_OR_RETURN(
        others, entries::NetAllocationsOfPayment(w.tx, w.ctx, w.own_payment, w.cmd.sale_id));
    for (const auto& [sale_id, amount] : others) {
      w.other_sales.push_back(sale_id);
      LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(
          w.tx, w.ctx, ids_, w.now_micros, w.cmd.request_id, sale_id, w.own_payment, -amount,
          v1::ALLOCATION_KIND_PAYMENT_VOID_RELEASE));
    }
  }
  LEDGER_ASSIGN_OR_RETURN(after, entries::GetPaymentFacts(w.tx, w.ctx, w.own_payment));
  LEDGER_ASSIGN_OR_RETURN(payment, entries::BuildPayment(w.tx, w.ctx, after));
  *out.mutable_sale_payment() = std::move(payment);
  return absl::OkStatus();
}

// The voided sale, the customer's statistics recomputed, and the event.
absl::Status VoidSale::Respond(Write& w, v1::VoidSaleResponse& out) const {
  v1::SaleVoided event;
  LEDGER_ASSIGN_OR_RETURN(walk_in_version, RecordSaleChange(w.tx, w.ctx, w.cmd.sale_id, w.owner,
                                                            w.today, 2, out, event));
  *out.mutable_released_credit() = entries::M(w.released_credit, w.ctx.currency);
  *event.mutable_sale() = out.sale();
  if (out.has_sale_payment()) *event.mutable_sale_payment() = out.sale_payment();
  *event.mutable_released_credit() = out.released_credit();
  *event.add_affected_sales() = entries::Position(out.sale());
  for (const std::string& other : w.other_sales) {
    LEDGER_ASSIGN_OR_RETURN(of, entries::GetSaleFacts(w.tx, w.ctx, other));
    LEDGER_ASSIGN_OR_RETURN(other_sale,
                            entries::BuildSale(w.tx, w.ctx, of, v1::SALE_VIEW_BASIC, w.today));
    *event.add_affected_sales() = entries::Position(other_sale);
  }
  return entries::AppendEvent(writer_.outbox(), w.tx, w.ctx, w.owner.customer, out.ledger_version(),
                              w.cmd.sale_id, walk_in_version, event, w.cmd.request_id);
}

// ---------------------------------------------------------------------------------
// VoidPayment

absl::StatusOr<v1::VoidPaymentResponse> VoidPayment::Run(const LedgerContext& ctx,
                                                         const VoidPaymentCommand& cmd,
                                                         const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::VoidPaymentResponse>(
      ctx, "VoidPayment", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::VoidPaymentResponse& out) -> absl::Status {
        return Write(tx, ctx, cmd, now, today, out);
      });
}

absl::Status VoidPayment::Write(db::Transaction& tx, const LedgerContext& ctx,
                                const VoidPaymentCommand& cmd, int64_t now, absl::CivilDay today,
                                v1::VoidPaymentResponse& out) const {
  LEDGER_ASSIGN_OR_RETURN(pre, entries::GetPaymentFacts(tx, ctx, cmd.payment_id));
  const std::string customer = pre.record.customer_id();
  if (customer.empty()) {
    return Err(absl::StatusCode::kFailedPrecondition, "WALK_IN_SALE_PAYMENT",
               "the payment of a walk-in sale cannot be voided alone; void the sale",
               {{"sale_id", pre.record.sale_id()}});
  }
  LEDGER_ASSIGN_OR_RETURN(before, entries::LockCustomer(tx, ctx, customer));
  LEDGER_ASSIGN_OR_RETURN(pf, entries::GetPaymentFacts(tx, ctx, cmd.payment_id));
  if (pf.voided) {
    return Err(absl::StatusCode::kFailedPrecondition, "PAYMENT_VOIDED",
               "the payment is already voided", {{"payment_id", cmd.payment_id}});
  }
  if (pf.returned > 0) {
    return Err(absl::StatusCode::kFailedPrecondition, "PAYMENT_HAS_REFUNDS",
               "part of the payment was paid back by a refund", {{"payment_id", cmd.payment_id}});
  }
  LEDGER_ASSIGN_OR_RETURN(net, entries::NetAllocationsOfPayment(tx, ctx, cmd.payment_id));
  for (const auto& [sale_id, amount] : net) {
    LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(tx, ctx, ids_, now, cmd.request_id, sale_id,
                                                     cmd.payment_id, -amount,
                                                     v1::ALLOCATION_KIND_PAYMENT_VOID_RELEASE));
  }
  const v1::VoidInfo info = NewVoidInfo(ctx, cmd.reason, cmd.request_id, now);
  LEDGER_RETURN_IF_ERROR(entries::InsertVoid(tx, ctx, "payment", cmd.payment_id, customer, info));
  LEDGER_ASSIGN_OR_RETURN(after, entries::GetPaymentFacts(tx, ctx, cmd.payment_id));
  LEDGER_ASSIGN_OR_RETURN(payment, entries::BuildPayment(tx, ctx, after));
  *out.mutable_payment() = std::move(payment);
  v1::PaymentVoided event;
  for (const auto& [sale_id, amount] : net) {
    LEDGER_ASSIGN_OR_RETURN(sf, entries::GetSaleFacts(tx, ctx, sale_id));
    LEDGER_ASSIGN_OR_RETURN(sale, entries::BuildSale(tx, ctx, sf, v1::SALE_VIEW_BASIC, today));
    *event.add_affected_sales() = entries::Position(sale);
    *out.add_affected_sales() = std::move(sale);
  }
  LEDGER_ASSIGN_OR_RETURN(
      stats, entries::BumpAndRecord(tx, ctx, customer, before, today, nullptr, out, event));
  *event.mutable_payment() = out.payment();
  return entries::AppendEvent(writer_.outbox(), tx, ctx, customer, stats.ledger_version(), "", 0,
                              event, cmd.request_id);
}

}  // namespace kelola::ledger
