#include "ledger-svc/app/sale_records.h"

#include "libs/time/time.h"

namespace kelola::ledger {

using entries::M;
using entries::SetTime;

std::vector<LineInput> SaleLines(const RecordSaleCommand& cmd) {
  std::vector<LineInput> lines;
  for (const auto& item : cmd.items) {
    lines.push_back({item.quantity_milli(), item.unit_price().amount_minor(),
                     item.line_discount().amount_minor()});
  }
  return lines;
}

v1::Sale NewSaleRecord(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                       const SaleTotals& totals, const NewSale& sale) {
  const std::string& cur = ctx.currency;
  v1::Sale record;
  record.set_sale_id(sale.sale_id);
  record.set_number(sale.number);
  record.set_customer_id(cmd.customer_id);
  record.set_store_id(cmd.store_id);
  for (size_t i = 0; i < cmd.items.size(); ++i) {
    v1::SaleItem* item = record.add_items();
    *item = cmd.items[i];
    item->set_refunded_quantity_milli(0);
    *item->mutable_unit_price() = M(cmd.items[i].unit_price().amount_minor(), cur);
    *item->mutable_line_discount() = M(cmd.items[i].line_discount().amount_minor(), cur);
    *item->mutable_line_amount() = M(totals.line_amounts[i], cur);
  }
  *record.mutable_subtotal() = M(totals.subtotal, cur);
  *record.mutable_order_discount() = M(cmd.order_discount, cur);
  *record.mutable_total() = M(totals.total, cur);
  SetTime(record.mutable_sale_time(), sale.sale_time_micros);
  if (cmd.due_date.has_value()) *record.mutable_due_date() = entries::ToDate(*cmd.due_date);
  record.set_note(cmd.note);
  record.set_external_reference(cmd.external_reference);
  record.set_request_id(cmd.request_id);
  record.set_recorded_by(ctx.principal);
  SetTime(record.mutable_record_time(), sale.now_micros);
  if (!sale.payment_id.empty()) record.set_sale_payment_id(sale.payment_id);
  return record;
}

v1::Payment NewSalePayment(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                           const NewSale& sale, int64_t number) {
  v1::Payment p;
  p.set_payment_id(sale.payment_id);
  p.set_number(number);
  p.set_customer_id(cmd.customer_id);
  p.set_store_id(cmd.store_id);
  *p.mutable_amount() = M(cmd.paid_now, ctx.currency);
  p.set_method(cmd.payment_method);
  p.set_method_detail(cmd.payment_method_detail);
  p.set_reference(cmd.payment_reference);
  SetTime(p.mutable_received_time(), sale.sale_time_micros);
  p.set_origin(v1::PAYMENT_ORIGIN_SALE);
  p.set_sale_id(sale.sale_id);
  p.set_request_id(cmd.request_id);
  p.set_recorded_by(ctx.principal);
  SetTime(p.mutable_record_time(), sale.now_micros);
  return p;
}

v1::Allocation SalePaymentAllocation(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                                     const NewSale& sale, const v1::Payment& payment,
                                     const std::string& allocation_id) {
  v1::Allocation a;
  a.set_allocation_id(allocation_id);
  a.set_sale_id(sale.sale_id);
  a.set_sale_number(sale.number);
  a.set_payment_id(payment.payment_id());
  a.set_payment_number(payment.number());
  a.set_payment_method(cmd.payment_method);
  *a.mutable_amount() = M(cmd.paid_now, ctx.currency);
  a.set_kind(v1::ALLOCATION_KIND_SALE_PAYMENT);
  SetTime(a.mutable_create_time(), sale.now_micros);
  a.set_created_by(ctx.principal);
  a.set_request_id(cmd.request_id);
  return a;
}

entries::SaleFacts NewSaleFacts(const RecordSaleCommand& cmd, const v1::Sale& record, int64_t total,
                                int64_t sale_time_micros) {
  entries::SaleFacts facts;
  facts.record = record;
  facts.amounts.total = total;
  facts.amounts.paid = cmd.paid_now + cmd.apply_credit;
  facts.sale_time_micros = sale_time_micros;
  facts.due = cmd.due_date;
  return facts;
}

entries::StatsDelta SaleStatsDelta(const RecordSaleCommand& cmd, const entries::SaleFacts& facts) {
  entries::StatsDelta delta;
  delta.new_sales.push_back(
      {facts.amounts.net_total(), facts.sale_time_micros, facts.due, facts.amounts.outstanding()});
  delta.credit_used = cmd.apply_credit;
  if (cmd.paid_now > 0) {  // allocated in full to the sale: no credit left of it
    delta.new_payments.push_back({cmd.paid_now, facts.sale_time_micros, false, 0});
  }
  return delta;
}

}  // namespace kelola::ledger
