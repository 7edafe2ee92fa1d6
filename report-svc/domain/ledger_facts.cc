#include "report-svc/domain/ledger_facts.h"

#include "libs/time/time.h"

namespace kelola::report::domain {
namespace {

namespace lv1 = ledger::v1;

PaymentFact PaymentFactOf(const lv1::Payment& payment) {
  PaymentFact fact;
  fact.payment_id = payment.payment_id();
  fact.customer_id = payment.customer_id();
  fact.received_time = time::ToTime(payment.received_time());
  fact.counts = payment.status() != lv1::PAYMENT_STATUS_VOIDED;
  return fact;
}

// `t` when given, else `fallback`.
absl::Time Or(bool has, const google::protobuf::Timestamp& t, absl::Time fallback) {
  return has ? time::ToTime(t) : fallback;
}

std::vector<PaymentFact> OnePayment(const lv1::Payment& p) {
  if (p.payment_id().empty()) return {};
  return {PaymentFactOf(p)};
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

std::vector<PaymentFact> PaymentsOf(const lv1::SaleRecorded& p) {
  return OnePayment(p.sale_payment());
}
std::vector<PaymentFact> PaymentsOf(const lv1::SaleVoided& p) {
  return OnePayment(p.sale_payment());
}
std::vector<PaymentFact> PaymentsOf(const lv1::PaymentRecorded& p) {
  return OnePayment(p.payment());
}
std::vector<PaymentFact> PaymentsOf(const lv1::PaymentVoided& p) { return OnePayment(p.payment()); }

absl::Time EffectiveTime(const lv1::SaleRecorded& p, absl::Time occur) {
  return Or(p.sale().has_sale_time(), p.sale().sale_time(), occur);
}
absl::Time EffectiveTime(const lv1::PaymentRecorded& p, absl::Time occur) {
  return Or(p.payment().has_received_time(), p.payment().received_time(), occur);
}
absl::Time EffectiveTime(const lv1::SaleRefunded& p, absl::Time occur) {
  return Or(p.refund().has_refund_time(), p.refund().refund_time(), occur);
}
absl::Time EffectiveTime(const lv1::SaleVoided& p, absl::Time occur) {
  return Or(p.sale().void_info().has_void_time(), p.sale().void_info().void_time(), occur);
}
absl::Time EffectiveTime(const lv1::PaymentVoided& p, absl::Time occur) {
  return Or(p.payment().void_info().has_void_time(), p.payment().void_info().void_time(), occur);
}

}  // namespace kelola::report::domain
