#include "ledger-svc/api/ledger_commands.h"

#include <optional>
#include <vector>

#include "libs/time/time.h"

namespace kelola::ledger::api {
namespace {

std::optional<int64_t> OptionalMicros(bool has, const google::protobuf::Timestamp& ts) {
  if (!has) return std::nullopt;
  return time::ToUnixMicros(ts);
}

template <typename Allocations>
std::vector<AllocationTarget> Targets(const Allocations& allocations) {
  std::vector<AllocationTarget> targets;
  for (const auto& a : allocations) targets.push_back({a.sale_id(), a.amount().amount_minor()});
  return targets;
}

}  // namespace

RecordSaleCommand ToCommand(const v1::RecordSaleRequest& req) {
  RecordSaleCommand cmd;
  cmd.request_id = req.request_id();
  cmd.sale_id = req.sale_id();
  cmd.customer_id = req.customer_id();
  cmd.store_id = req.store_id();
  cmd.items.assign(req.items().begin(), req.items().end());
  cmd.order_discount = req.order_discount().amount_minor();
  cmd.paid_now = req.amount_paid_now().amount_minor();
  cmd.apply_credit = req.apply_credit().amount_minor();
  cmd.sale_time_micros = OptionalMicros(req.has_sale_time(), req.sale_time());
  if (req.has_due_date()) cmd.due_date = time::ToCivilDay(req.due_date());
  cmd.note = req.note();
  cmd.external_reference = req.external_reference();
  cmd.payment_method = req.payment_method();
  cmd.payment_method_detail = req.payment_method_detail();
  cmd.payment_reference = req.payment_reference();
  return cmd;
}

RecordPaymentCommand ToCommand(const v1::RecordPaymentRequest& req) {
  RecordPaymentCommand cmd;
  cmd.request_id = req.request_id();
  cmd.payment_id = req.payment_id();
  cmd.customer_id = req.customer_id();
  cmd.store_id = req.store_id();
  cmd.amount = req.amount().amount_minor();
  cmd.method = req.method();
  cmd.method_detail = req.method_detail();
  cmd.reference = req.reference();
  cmd.note = req.note();
  cmd.received_time_micros = OptionalMicros(req.has_received_time(), req.received_time());
  cmd.allocations = Targets(req.allocations());
  cmd.keep_excess_as_credit = req.keep_excess_as_credit();
  return cmd;
}

ApplyCreditCommand ToCommand(const v1::ApplyCreditRequest& req) {
  ApplyCreditCommand cmd;
  cmd.request_id = req.request_id();
  cmd.customer_id = req.customer_id();
  cmd.allocations = Targets(req.allocations());
  if (req.has_max_amount()) cmd.max_amount = req.max_amount().amount_minor();
  return cmd;
}

VoidSaleCommand ToCommand(const v1::VoidSaleRequest& req) {
  return {req.request_id(), req.sale_id(), req.reason(), req.release_payments_as_credit()};
}

VoidPaymentCommand ToCommand(const v1::VoidPaymentRequest& req) {
  return {req.request_id(), req.payment_id(), req.reason()};
}

RefundSaleCommand ToCommand(const v1::RefundSaleRequest& req) {
  RefundSaleCommand cmd;
  cmd.request_id = req.request_id();
  cmd.sale_id = req.sale_id();
  cmd.amount = req.amount().amount_minor();
  cmd.items.assign(req.items().begin(), req.items().end());
  cmd.reason = req.reason();
  cmd.settlement = req.settlement();
  cmd.payout_method = req.payout_method();
  cmd.store_id = req.store_id();
  cmd.refund_time_micros = OptionalMicros(req.has_refund_time(), req.refund_time());
  return cmd;
}

SetCreditLimitCommand ToCommand(const v1::SetCreditLimitRequest& req) {
  const v1::CreditLimit& limit = req.credit_limit();
  SetCreditLimitCommand cmd;
  cmd.request_id = req.request_id();
  if (limit.subject_case() == v1::CreditLimit::kCategoryId) {
    cmd.subject = {LimitSubject::kCategory, limit.category_id()};
  } else {
    cmd.subject = {LimitSubject::kCustomer, limit.customer_id()};
  }
  cmd.limit = limit.limit().amount_minor();
  return cmd;
}

DeleteCreditLimitCommand ToCommand(const v1::DeleteCreditLimitRequest& req) {
  DeleteCreditLimitCommand cmd;
  cmd.request_id = req.request_id();
  if (req.subject_case() == v1::DeleteCreditLimitRequest::kCategoryId) {
    cmd.subject = {LimitSubject::kCategory, req.category_id()};
  } else {
    cmd.subject = {LimitSubject::kCustomer, req.customer_id()};
  }
  return cmd;
}

}  // namespace kelola::ledger::api
