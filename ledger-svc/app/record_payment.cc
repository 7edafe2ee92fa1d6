#include "ledger-svc/app/record_payment.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger-svc/app/client_ids.h"
#include "ledger-svc/domain/sale_eligibility.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

using entries::Err;

absl::Status PaymentIdExists(const std::string& payment_id) {
  return Err(absl::StatusCode::kAlreadyExists, "PAYMENT_ID_EXISTS",
             "a payment with this payment_id exists", {{"payment_id", payment_id}});
}

}  // namespace

v1::Payment NewPaymentRecord(const LedgerContext& ctx, const RecordPaymentCommand& cmd,
                             const std::string& payment_id, int64_t number, int64_t received_micros,
                             int64_t now_micros) {
  v1::Payment p;
  p.set_payment_id(payment_id);
  p.set_number(number);
  p.set_customer_id(cmd.customer_id);
  p.set_store_id(cmd.store_id);
  *p.mutable_amount() = entries::M(cmd.amount, ctx.currency);
  p.set_method(cmd.method);
  p.set_method_detail(cmd.method_detail);
  p.set_reference(cmd.reference);
  entries::SetTime(p.mutable_received_time(), received_micros);
  p.set_note(cmd.note);
  p.set_origin(v1::PAYMENT_ORIGIN_PAYMENT);
  p.set_request_id(cmd.request_id);
  p.set_recorded_by(ctx.principal);
  entries::SetTime(p.mutable_record_time(), now_micros);
  return p;
}

absl::Status CheckExcess(const RecordPaymentCommand& cmd, int64_t allocated, int64_t owed) {
  const int64_t excess = cmd.amount - allocated;
  if (excess <= 0 || cmd.keep_excess_as_credit) return absl::OkStatus();
  return Err(absl::StatusCode::kFailedPrecondition, "OVERPAYMENT",
             "the payment is more than the customer owes; set keep_excess_as_credit to "
             "keep the rest as credit",
             {{"outstanding", absl::StrCat(owed)},
              {"attempted", absl::StrCat(cmd.amount)},
              {"excess", absl::StrCat(excess)}});
}

// One run of the write: what it decided so far.
struct RecordPayment::Write {
  Write(db::Transaction& tx, const LedgerContext& ctx, const RecordPaymentCommand& cmd,
        const EntryNumbers& numbers, const CustomerCheck* checked, absl::CivilDay today,
        int64_t now_micros)
      : tx(tx),
        ctx(ctx),
        cmd(cmd),
        numbers(numbers),
        checked(checked),
        today(today),
        now_micros(now_micros) {}

  db::Transaction& tx;
  const LedgerContext& ctx;
  const RecordPaymentCommand& cmd;
  const EntryNumbers& numbers;
  const CustomerCheck* checked;
  absl::CivilDay today;
  int64_t now_micros = 0;
  std::string payment_id;
  entries::CustomerRow before;
  std::vector<PlannedAllocation> plan;
  std::optional<SalePlace> settled_before;  // where the customer's open sales begin after it
  int64_t allocated = 0;
  int64_t received_micros = 0;
  v1::Payment record;
};

absl::StatusOr<v1::RecordPaymentResponse> RecordPayment::Run(
    const LedgerContext& ctx, const RecordPaymentCommand& cmd, const idempotency::Print& print,
    const DirectoryQuestion& ask_directory) {
  // Reserved once: a write run again after asking customer-svc uses the same number.
  LEDGER_ASSIGN_OR_RETURN(numbers, writer_.Reserve(ctx.tenant_id, {"payment"}));
  return WriteAskingOnce<v1::RecordPaymentResponse>(
      ask_directory, [&](const CustomerCheck* checked) {
        return WritePayment(ctx, cmd, print, numbers, checked);
      });
}

absl::StatusOr<v1::RecordPaymentResponse> RecordPayment::WritePayment(
    const LedgerContext& ctx, const RecordPaymentCommand& cmd, const idempotency::Print& print,
    const EntryNumbers& numbers, const CustomerCheck* checked) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  auto result = writer_.Run<v1::RecordPaymentResponse>(
      ctx, "RecordPayment", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::RecordPaymentResponse& out) -> absl::Status {
        Write w(tx, ctx, cmd, numbers, checked, today, now);
        LEDGER_RETURN_IF_ERROR(Decide(w));
        LEDGER_RETURN_IF_ERROR(Insert(w));
        return Respond(w, out);
      });
  return ClientIdTaken(std::move(result), cmd.payment_id, PaymentIdExists);
}

// The payment_id, the customer, the allocations and whether the rest may be credit.
absl::Status RecordPayment::Decide(Write& w) const {
  const RecordPaymentCommand& cmd = w.cmd;
  w.payment_id = cmd.payment_id;
  if (!cmd.payment_id.empty()) {
    LEDGER_ASSIGN_OR_RETURN(existing, entries::FindPayment(w.tx, w.ctx, cmd.payment_id));
    if (existing.has_value()) return PaymentIdExists(cmd.payment_id);
  } else {
    w.payment_id = ids_.NewId();
  }
  LEDGER_ASSIGN_OR_RETURN(locked, entries::LockCustomerWithDirectory(w.tx, w.ctx, cmd.customer_id));
  LEDGER_RETURN_IF_ERROR(MayWrite(w.tx, w.ctx, cmd.customer_id, locked.row, locked.directory,
                                  w.checked, PaymentEligibility));
  w.before = locked.row;
  int64_t owed = w.before.balance;
  if (!cmd.allocations.empty()) {
    LEDGER_ASSIGN_OR_RETURN(checked, CheckTargets(w.tx, w.ctx, cmd.customer_id, cmd.allocations,
                                                  ExceedDetail::kWithAmounts));
    owed = checked.outstanding;
    w.plan = std::move(checked.plan);
    w.settled_before = w.before.settled_before;  // settling named sales reopens none
  } else {
    LEDGER_ASSIGN_OR_RETURN(
        plan, PlanOldestFirst(w.tx, w.ctx, cmd.customer_id, cmd.amount, w.before.settled_before));
    w.plan = std::move(plan.allocations);
    w.settled_before = plan.settled_before;
  }
  w.allocated = PlannedTotal(w.plan);
  return CheckExcess(cmd, w.allocated, owed);
}

absl::Status RecordPayment::Insert(Write& w) const {
  const RecordPaymentCommand& cmd = w.cmd;
  LEDGER_ASSIGN_OR_RETURN(number, w.numbers.Take(w.tx, w.ctx.tenant_id, "payment"));
  w.received_micros = cmd.received_time_micros.value_or(w.now_micros);
  w.record = NewPaymentRecord(w.ctx, cmd, w.payment_id, number, w.received_micros, w.now_micros);
  LEDGER_RETURN_IF_ERROR(
      entries::InsertPayment(w.tx, w.ctx, w.record, cmd.amount, w.received_micros));
  for (const auto& a : w.plan) {
    LEDGER_RETURN_IF_ERROR(entries::InsertAllocation(w.tx, w.ctx, ids_, w.now_micros,
                                                     cmd.request_id, a.sale_id, w.payment_id,
                                                     a.amount, v1::ALLOCATION_KIND_PAYMENT));
  }
  return absl::OkStatus();
}

// The response, the customer's statistics moved by the payment's delta, and the event.
absl::Status RecordPayment::Respond(Write& w, v1::RecordPaymentResponse& out) const {
  entries::PaymentFacts pf;  // new: allocated as planned, nothing returned, not voided
  pf.record = w.record;
  pf.amount = w.cmd.amount;
  pf.allocated = w.allocated;
  LEDGER_ASSIGN_OR_RETURN(payment, entries::BuildPayment(w.tx, w.ctx, pf));
  *out.mutable_payment() = std::move(payment);
  v1::PaymentRecorded event;
  entries::StatsDelta delta;
  delta.new_payments.push_back(
      {pf.amount - pf.returned, w.received_micros, true, pf.unallocated()});
  std::set<std::string> paid_ids;
  bool exact_delta = true;
  for (const auto& a : w.plan) {
    LEDGER_ASSIGN_OR_RETURN(sf, entries::GetSaleFacts(w.tx, w.ctx, a.sale_id));
    // Outstanding before = after + this allocation (a sale named twice: recompute).
    if (!paid_ids.insert(a.sale_id).second) exact_delta = false;
    delta.paid_sales.push_back({sf.sale_time_micros, sf.due, sf.amounts.outstanding() + a.amount,
                                sf.amounts.outstanding()});
    LEDGER_ASSIGN_OR_RETURN(sale,
                            entries::BuildSale(w.tx, w.ctx, sf, v1::SALE_VIEW_BASIC, w.today));
    *event.add_affected_sales() = entries::Position(sale);
    *out.add_allocated_sales() = std::move(sale);
  }
  LEDGER_ASSIGN_OR_RETURN(
      stats, entries::BumpAndRecord(w.tx, w.ctx, w.cmd.customer_id, w.before, w.today,
                                    exact_delta ? &delta : nullptr, out, event, w.settled_before));
  *event.mutable_payment() = out.payment();
  return entries::AppendEvent(writer_.outbox(), w.tx, w.ctx, w.cmd.customer_id,
                              stats.ledger_version(), "", 0, event, w.cmd.request_id);
}

}  // namespace kelola::ledger
