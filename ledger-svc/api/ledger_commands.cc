#include "ledger-svc/api/ledger_commands.h"

#include <optional>

#include "libs/time/time.h"

namespace kelola::ledger::api {
namespace {

std::optional<int64_t> OptionalMicros(bool has, const google::protobuf::Timestamp& ts) {
  if (!has) return std::nullopt;
  return time::ToUnixMicros(ts);
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

}  // namespace kelola::ledger::api
