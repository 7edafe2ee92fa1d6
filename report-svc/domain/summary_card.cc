#include "report-svc/domain/summary_card.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "libs/time/time.h"

namespace kelola::report::domain {
namespace {

std::optional<absl::Time> TimeOf(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return time::ToTime(t);
}

// The per-customer payloads share customer_id, ledger_version and stats; those that touch
// sales list them in affected_sales.
template <typename T>
CardChange ChangeOf(const T& payload, absl::Time occur) {
  CardChange change;
  change.customer_id = payload.customer_id();
  change.ledger_version = payload.ledger_version();
  change.stats = payload.stats();
  if constexpr (requires { payload.affected_sales(); }) {
    change.positions.assign(payload.affected_sales().begin(), payload.affected_sales().end());
  }
  change.payments = PaymentsOf(payload);
  change.effective_time = EffectiveTime(payload, occur);
  return change;
}

// Unpacks the payload when it is a T and appends its change (walk-in sales have none).
template <typename T>
absl::StatusOr<bool> TryCustomerEvent(const google::protobuf::Any& any, absl::Time occur,
                                      std::vector<CardChange>& out) {
  if (!any.Is<T>()) return false;
  T payload;
  if (!any.UnpackTo(&payload)) {
    return absl::InvalidArgumentError("unreadable ledger event payload: " +
                                      T::descriptor()->full_name());
  }
  if (!payload.customer_id().empty()) out.push_back(ChangeOf(payload, occur));
  return true;
}

template <typename... T>
absl::StatusOr<bool> TryCustomerEvents(const google::protobuf::Any& any, absl::Time occur,
                                       std::vector<CardChange>& out) {
  absl::StatusOr<bool> matched = false;
  // Stops at the first type that matches (or fails).
  ((matched = TryCustomerEvent<T>(any, occur, out), !matched.ok() || *matched) || ...);
  return matched;
}

absl::Status Reassigned(const google::protobuf::Any& any, absl::Time occur,
                        std::vector<CardChange>& out) {
  ledger::v1::CustomerReassigned moved;
  if (!any.UnpackTo(&moved)) {
    return absl::InvalidArgumentError("unreadable ledger event payload: " +
                                      moved.GetDescriptor()->full_name());
  }
  CardChange target = ChangeOf(moved, occur);
  target.moved_sale_ids.assign(moved.moved_sale_ids().begin(), moved.moved_sale_ids().end());
  target.moved_payment_ids.assign(moved.moved_payment_ids().begin(),
                                  moved.moved_payment_ids().end());
  out.push_back(std::move(target));
  CardChange source;
  source.customer_id = moved.source_customer_id();
  source.ledger_version = moved.source_ledger_version();
  source.stats = moved.source_stats();
  source.effective_time = occur;
  out.push_back(std::move(source));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<CardChange>> CardChanges(const type::v1::Event& event) {
  std::vector<CardChange> out;
  const google::protobuf::Any& any = event.payload();
  const absl::Time occur = time::ToTime(event.occur_time());
  if (any.Is<ledger::v1::CustomerReassigned>()) {
    if (absl::Status s = Reassigned(any, occur, out); !s.ok()) return s;
    return out;
  }
  absl::StatusOr<bool> matched =
      TryCustomerEvents<ledger::v1::SaleRecorded, ledger::v1::PaymentRecorded,
                        ledger::v1::SaleVoided, ledger::v1::PaymentVoided, ledger::v1::SaleRefunded,
                        ledger::v1::CreditApplied, ledger::v1::CustomerSealed,
                        ledger::v1::CustomerUnsealed>(any, occur, out);
  if (!matched.ok()) return matched.status();
  return out;  // CreditLimitChanged and unknown events change no card
}

CardRow ReduceCard(const CardChange& change, const CardRow& row) {
  if (!IsNewer(change, row)) return row;
  const ledger::v1::CustomerLedgerStats& s = change.stats;
  CardRow next;
  next.customer_id = change.customer_id;
  next.ledger_version = change.ledger_version;
  next.currency = s.total_spent().currency_code();
  if (next.currency.empty()) next.currency = s.balance().currency_code();
  if (next.currency.empty()) next.currency = row.currency;
  next.total_spent = s.total_spent().amount_minor();
  next.transaction_count = s.transaction_count();
  next.average_order = s.average_order().amount_minor();
  next.balance = s.balance().amount_minor();
  next.credit = s.credit().amount_minor();
  next.first_purchase = TimeOf(s.has_first_purchase_time(), s.first_purchase_time());
  next.last_purchase = TimeOf(s.has_last_purchase_time(), s.last_purchase_time());
  next.merged_into_customer_id = s.merged_into_customer_id();
  return next;
}

Overdue OverdueOn(const std::vector<OpenSale>& open_sales, absl::CivilDay today) {
  Overdue overdue;
  for (const OpenSale& sale : open_sales) {
    if (!sale.due_date.has_value() || sale.outstanding <= 0 || today <= *sale.due_date) continue;
    if (__builtin_add_overflow(overdue.amount, sale.outstanding, &overdue.amount)) {
      overdue.amount = std::numeric_limits<int64_t>::max();
    }
    overdue.days = std::max(overdue.days, static_cast<int32_t>(today - *sale.due_date));
  }
  return overdue;
}

std::optional<int32_t> DaysSinceLastPurchase(const CardRow& row, absl::TimeZone zone,
                                             absl::CivilDay today) {
  if (!row.last_purchase.has_value()) return std::nullopt;
  const absl::CivilDay bought = absl::ToCivilDay(*row.last_purchase, zone);
  return static_cast<int32_t>(std::max<int64_t>(0, today - bought));
}

}  // namespace kelola::report::domain
