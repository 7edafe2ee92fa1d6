#include "report-svc/domain/ledger_facts.h"

#include "libs/time/time.h"

namespace kelola::report::domain {
namespace {

namespace lv1 = ledger::v1;

std::optional<absl::Time> Stamp(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return time::ToTime(t);
}

PaymentFact PaymentFactOf(const lv1::Payment& payment) {
  PaymentFact fact;
  fact.payment_id = payment.payment_id();
  fact.customer_id = payment.customer_id();
  fact.received_time = time::ToTime(payment.received_time());
  fact.counts = payment.status() != lv1::PAYMENT_STATUS_VOIDED;
  return fact;
}

// The payload when the event's is a T.
template <typename T>
std::optional<T> As(const type::v1::Event& event) {
  if (!event.payload().Is<T>()) return std::nullopt;
  T payload;
  if (!event.payload().UnpackTo(&payload)) return std::nullopt;
  return payload;
}

std::optional<absl::Time> EffectiveOf(const type::v1::Event& event) {
  if (auto p = As<lv1::SaleRecorded>(event)) {
    return Stamp(p->sale().has_sale_time(), p->sale().sale_time());
  }
  if (auto p = As<lv1::PaymentRecorded>(event)) {
    return Stamp(p->payment().has_received_time(), p->payment().received_time());
  }
  if (auto p = As<lv1::SaleRefunded>(event)) {
    return Stamp(p->refund().has_refund_time(), p->refund().refund_time());
  }
  if (auto p = As<lv1::SaleVoided>(event)) {
    return Stamp(p->sale().void_info().has_void_time(), p->sale().void_info().void_time());
  }
  if (auto p = As<lv1::PaymentVoided>(event)) {
    return Stamp(p->payment().void_info().has_void_time(), p->payment().void_info().void_time());
  }
  return std::nullopt;
}

}  // namespace

SaleFact SaleFactOf(const lv1::SalePosition& position) {
  SaleFact fact;
  fact.sale_id = position.sale_id();
  fact.customer_id = position.customer_id();
  fact.store_id = position.store_id();
  fact.sale_time = time::ToTime(position.sale_time());
  if (position.has_due_date()) fact.due_date = time::ToCivilDay(position.due_date());
  fact.net_total = position.net_total().amount_minor();
  fact.outstanding = position.outstanding().amount_minor();
  fact.counted = position.status() != lv1::SALE_STATUS_VOIDED;
  return fact;
}

std::vector<PaymentFact> PaymentsOf(const type::v1::Event& event) {
  std::vector<PaymentFact> out;
  auto add = [&](const lv1::Payment& p) {
    if (!p.payment_id().empty()) out.push_back(PaymentFactOf(p));
  };
  if (auto p = As<lv1::SaleRecorded>(event)) add(p->sale_payment());
  if (auto p = As<lv1::SaleVoided>(event)) add(p->sale_payment());
  if (auto p = As<lv1::PaymentRecorded>(event)) add(p->payment());
  if (auto p = As<lv1::PaymentVoided>(event)) add(p->payment());
  return out;
}

absl::Time EffectiveTime(const type::v1::Event& event) {
  if (std::optional<absl::Time> t = EffectiveOf(event)) return *t;
  return time::ToTime(event.occur_time());
}

}  // namespace kelola::report::domain
