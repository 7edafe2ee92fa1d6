#include "ledger-svc/app/record_sale.h"

#include <string>
#include <utility>
#include <vector>

#include "ledger-svc/app/client_ids.h"
#include "ledger-svc/app/directory_check.h"
#include "ledger-svc/domain/credit_rules.h"
#include "ledger-svc/domain/sale_eligibility.h"
#include "ledger-svc/store/entry_writes.h"

namespace kelola::ledger {
namespace {

using entries::Err;

absl::Status SaleIdExists(const std::string& sale_id) {
  return Err(absl::StatusCode::kAlreadyExists, "SALE_ID_EXISTS", "a sale with this sale_id exists",
             {{"sale_id", sale_id}});
}

}  // namespace

// One run of the write: what it decided so far.
struct RecordSale::Write {
  Write(db::Transaction& tx, const LedgerContext& ctx, const RecordSaleCommand& cmd,
        const EntryNumbers& numbers, const CustomerCheck* checked, absl::CivilDay today,
        int64_t now_micros)
      : tx(tx), ctx(ctx), cmd(cmd), numbers(numbers), checked(checked), today(today) {
    sale.now_micros = now_micros;
  }

  db::Transaction& tx;
  const LedgerContext& ctx;
  const RecordSaleCommand& cmd;
  const EntryNumbers& numbers;
  const CustomerCheck* checked;
  absl::CivilDay today;
  NewSale sale;
  SaleTotals totals;
  entries::CustomerRow before;
  std::vector<CreditTake> credit_plan;
  v1::Sale record;
  v1::Payment payment;                          // the payment made with the sale
  std::vector<v1::Allocation> new_allocations;  // its allocation, when there is one
};

absl::StatusOr<v1::RecordSaleResponse> RecordSale::Run(const LedgerContext& ctx,
                                                       const RecordSaleCommand& cmd,
                                                       const idempotency::Print& print,
                                                       const DirectoryQuestion& ask_directory) {
  std::vector<std::string> counters = {"sale"};
  if (cmd.paid_now > 0) counters.push_back("payment");
  // Reserved once: a write run again after asking customer-svc uses the same numbers.
  LEDGER_ASSIGN_OR_RETURN(numbers, writer_.Reserve(ctx.tenant_id, counters));
  return WriteAskingOnce<v1::RecordSaleResponse>(ask_directory, [&](const CustomerCheck* checked) {
    return WriteSale(ctx, cmd, print, numbers, checked);
  });
}

absl::StatusOr<v1::RecordSaleResponse> RecordSale::WriteSale(const LedgerContext& ctx,
                                                             const RecordSaleCommand& cmd,
                                                             const idempotency::Print& print,
                                                             const EntryNumbers& numbers,
                                                             const CustomerCheck* checked) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  auto result = writer_.Run<v1::RecordSaleResponse>(
      ctx, "RecordSale", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::RecordSaleResponse& out) -> absl::Status {
        Write w(tx, ctx, cmd, numbers, checked, today, now);
        LEDGER_RETURN_IF_ERROR(Decide(w));
        LEDGER_RETURN_IF_ERROR(Insert(w));
        return Respond(w, out);
      });
  return ClientIdTaken(std::move(result), cmd.sale_id, SaleIdExists);
}

// The sale_id, the totals, whether the customer may buy and owe this much more, the credit
// plan and the sale's number.
absl::Status RecordSale::Decide(Write& w) const {
  const RecordSaleCommand& cmd = w.cmd;
  w.sale.sale_id = cmd.sale_id;
  if (!cmd.sale_id.empty()) {
    LEDGER_ASSIGN_OR_RETURN(existing, entries::FindSale(w.tx, w.ctx, cmd.sale_id));
    if (existing.has_value()) return SaleIdExists(cmd.sale_id);
  } else {
    w.sale.sale_id = ids_.NewId();
  }
  LEDGER_ASSIGN_OR_RETURN(totals, ComputeTotals(SaleLines(cmd), cmd.order_discount));
  w.totals = std::move(totals);
  const int64_t unpaid = w.totals.total - cmd.paid_now - cmd.apply_credit;
  if (!cmd.customer_id.empty()) {
    LEDGER_ASSIGN_OR_RETURN(locked, entries::LockCustomerForSale(
                                        w.tx, w.ctx, cmd.customer_id,
                                        w.checked != nullptr ? &w.checked->category_id : nullptr));
    LEDGER_RETURN_IF_ERROR(MayWrite(w.tx, w.ctx, cmd.customer_id, locked.row, locked.directory,
                                    w.checked, SaleEligibility));
    w.before = locked.row;
    LEDGER_RETURN_IF_ERROR(
        CheckCreditLimit(locked.effective_limit(), w.before.balance, unpaid, w.ctx.currency));
  }
  if (cmd.apply_credit > 0) {
    LEDGER_ASSIGN_OR_RETURN(sources, entries::CreditSources(w.tx, w.ctx, cmd.customer_id));
    LEDGER_ASSIGN_OR_RETURN(takes, TakeCreditOldestFirst({cmd.apply_credit}, sources));
    w.credit_plan = std::move(takes);
  }
  LEDGER_ASSIGN_OR_RETURN(number, w.numbers.Take(w.tx, w.ctx.tenant_id, "sale"));
  w.sale.number = number;
  w.sale.sale_time_micros = cmd.sale_time_micros.value_or(w.sale.now_micros);
  if (cmd.paid_now > 0) w.sale.payment_id = ids_.NewId();
  return absl::OkStatus();
}

// The sale, the payment made with it and its allocation, and the credit allocations.
absl::Status RecordSale::Insert(Write& w) const {
  const RecordSaleCommand& cmd = w.cmd;
  const int64_t now = w.sale.now_micros;
  w.record = NewSaleRecord(w.ctx, cmd, w.totals, w.sale);
  LEDGER_RETURN_IF_ERROR(entries::InsertSale(w.tx, w.ctx, w.record, w.totals.total,
                                             w.sale.sale_time_micros, cmd.due_date));
  if (cmd.paid_now > 0) {
    LEDGER_ASSIGN_OR_RETURN(pnumber, w.numbers.Take(w.tx, w.ctx.tenant_id, "payment"));
    w.payment = NewSalePayment(w.ctx, cmd, w.sale, pnumber);
    LEDGER_RETURN_IF_ERROR(
        entries::InsertPayment(w.tx, w.ctx, w.payment, cmd.paid_now, w.sale.sale_time_micros));
    std::string allocation_id;
    LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(
        w.tx, w.ctx, ids_, now, cmd.request_id, w.sale.sale_id, w.sale.payment_id, cmd.paid_now,
        v1::ALLOCATION_KIND_SALE_PAYMENT, "", false, &allocation_id));
    // The sale's only allocation so far, known without reading it back.
    w.new_allocations.push_back(
        SalePaymentAllocation(w.ctx, cmd, w.sale, w.payment, allocation_id));
  }
  for (const CreditTake& take : w.credit_plan) {
    LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(w.tx, w.ctx, ids_, now, cmd.request_id,
                                                     w.sale.sale_id, take.payment_id, take.amount,
                                                     v1::ALLOCATION_KIND_CREDIT));
  }
  return absl::OkStatus();
}

// The response from what was inserted, the customer's statistics moved by the sale's
// delta, and the event.
absl::Status RecordSale::Respond(Write& w, v1::RecordSaleResponse& out) const {
  const RecordSaleCommand& cmd = w.cmd;
  // Without refunds, the FULL view is the BASIC one plus the allocations.
  const entries::SaleFacts facts =
      NewSaleFacts(cmd, w.record, w.totals.total, w.sale.sale_time_micros);
  LEDGER_ASSIGN_OR_RETURN(sale,
                          entries::BuildSale(w.tx, w.ctx, facts, v1::SALE_VIEW_BASIC, w.today));
  if (!w.credit_plan.empty()) {  // allocations of earlier payments: read back, with theirs
    LEDGER_ASSIGN_OR_RETURN(allocations,
                            entries::LoadAllocations(w.tx, w.ctx, "sale_id", w.sale.sale_id));
    for (auto& a : allocations) *sale.add_allocations() = std::move(a);
  } else {  // none, or only the one of the payment made with the sale
    for (const v1::Allocation& a : w.new_allocations) *sale.add_allocations() = a;
  }
  *out.mutable_sale() = std::move(sale);
  const entries::StatsDelta delta = SaleStatsDelta(cmd, facts);
  if (cmd.paid_now > 0) {
    entries::PaymentFacts pf;  // new, allocated in full to the sale
    pf.record = w.payment;
    pf.amount = cmd.paid_now;
    pf.allocated = cmd.paid_now;
    LEDGER_ASSIGN_OR_RETURN(payment, entries::BuildPayment(w.tx, w.ctx, pf, &w.new_allocations));
    *out.mutable_sale_payment() = std::move(payment);
  }
  v1::SaleRecorded event;
  event.set_customer_id(cmd.customer_id);
  if (!cmd.customer_id.empty()) {
    // Where the customer's open sales begin stays, unless this sale is open and placed before
    // it (recorded late, with an earlier sale time).
    const std::optional<SalePlace> settled_before = SettledBeforeWithSale(
        w.before.settled_before, SalePlace{w.sale.sale_time_micros, w.sale.number},
        facts.amounts.outstanding() > 0);
    LEDGER_ASSIGN_OR_RETURN(
        stats, entries::BumpAndRecord(w.tx, w.ctx, cmd.customer_id, w.before, w.today, &delta, out,
                                      event, settled_before));
  }
  *event.mutable_sale() = out.sale();
  if (out.has_sale_payment()) *event.mutable_sale_payment() = out.sale_payment();
  *event.add_affected_sales() = entries::Position(out.sale());
  return entries::AppendEvent(writer_.outbox(), w.tx, w.ctx, cmd.customer_id, out.ledger_version(),
                              w.sale.sale_id, 1, event, cmd.request_id);
}

}  // namespace kelola::ledger
