#include "ledger-svc/app/sale_records.h"

#include "gtest/gtest.h"

namespace kelola::ledger {
namespace {

LedgerContext Ctx() {
  LedgerContext ctx;
  ctx.tenant_id = "tenant-1";
  ctx.principal = "cashier-1";
  ctx.currency = "THB";
  return ctx;
}

RecordSaleCommand TwoLines() {
  RecordSaleCommand cmd;
  cmd.request_id = "req-1";
  cmd.customer_id = "cust-1";
  cmd.store_id = "store-1";
  v1::SaleItem& rice = cmd.items.emplace_back();
  rice.set_name("Rice");
  rice.set_quantity_milli(2000);
  rice.mutable_unit_price()->set_amount_minor(5'000);
  rice.mutable_line_discount()->set_amount_minor(1'000);
  rice.set_refunded_quantity_milli(7);  // whatever the client sent: a new line has none
  v1::SaleItem& oil = cmd.items.emplace_back();
  oil.set_name("Oil");
  oil.set_quantity_milli(1000);
  oil.mutable_unit_price()->set_amount_minor(3'000);
  cmd.order_discount = 500;
  cmd.paid_now = 4'000;
  cmd.apply_credit = 1'000;
  cmd.due_date = absl::CivilDay(2026, 3, 31);
  cmd.payment_method = v1::PAYMENT_METHOD_CASH;
  return cmd;
}

NewSale Decided() {
  NewSale sale;
  sale.sale_id = "sale-1";
  sale.number = 42;
  sale.payment_id = "pay-1";
  sale.sale_time_micros = 1'000'000;
  sale.now_micros = 2'000'000;
  return sale;
}

TEST(SaleRecordsTest, TheRecordCarriesTheTotalsInTheTenantsCurrency) {
  const RecordSaleCommand cmd = TwoLines();
  auto totals = ComputeTotals(SaleLines(cmd), cmd.order_discount);
  ASSERT_TRUE(totals.ok()) << totals.status();
  const v1::Sale record = NewSaleRecord(Ctx(), cmd, *totals, Decided());
  EXPECT_EQ(record.number(), 42);
  EXPECT_EQ(record.sale_payment_id(), "pay-1");
  ASSERT_EQ(record.items_size(), 2);
  EXPECT_EQ(record.items(0).line_amount().amount_minor(), 9'000);
  EXPECT_EQ(record.items(0).line_amount().currency_code(), "THB");
  EXPECT_EQ(record.items(0).unit_price().currency_code(), "THB");
  EXPECT_EQ(record.items(0).refunded_quantity_milli(), 0);
  EXPECT_EQ(record.items(1).line_discount().currency_code(), "THB");
  EXPECT_EQ(record.subtotal().amount_minor(), 12'000);
  EXPECT_EQ(record.total().amount_minor(), 11'500);
  EXPECT_EQ(record.due_date().year(), 2026);
  EXPECT_EQ(record.due_date().day(), 31);
  EXPECT_EQ(record.recorded_by(), "cashier-1");
  EXPECT_EQ(record.sale_time().seconds(), 1);
  EXPECT_EQ(record.record_time().seconds(), 2);
}

TEST(SaleRecordsTest, ASaleWithoutPaymentNamesNone) {
  RecordSaleCommand cmd = TwoLines();
  cmd.paid_now = 0;
  NewSale sale = Decided();
  sale.payment_id.clear();
  auto totals = ComputeTotals(SaleLines(cmd), cmd.order_discount);
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(NewSaleRecord(Ctx(), cmd, *totals, sale).sale_payment_id(), "");
}

TEST(SaleRecordsTest, ThePaymentMadeWithTheSaleIsReceivedAtTheSalesTimeAndAllocatedToIt) {
  const RecordSaleCommand cmd = TwoLines();
  const v1::Payment payment = NewSalePayment(Ctx(), cmd, Decided(), 7);
  EXPECT_EQ(payment.payment_id(), "pay-1");
  EXPECT_EQ(payment.number(), 7);
  EXPECT_EQ(payment.origin(), v1::PAYMENT_ORIGIN_SALE);
  EXPECT_EQ(payment.sale_id(), "sale-1");
  EXPECT_EQ(payment.amount().amount_minor(), 4'000);
  EXPECT_EQ(payment.received_time().seconds(), 1);
  const v1::Allocation a = SalePaymentAllocation(Ctx(), cmd, Decided(), payment, "alloc-1");
  EXPECT_EQ(a.allocation_id(), "alloc-1");
  EXPECT_EQ(a.sale_number(), 42);
  EXPECT_EQ(a.payment_number(), 7);
  EXPECT_EQ(a.kind(), v1::ALLOCATION_KIND_SALE_PAYMENT);
  EXPECT_EQ(a.amount().amount_minor(), 4'000);
  EXPECT_EQ(a.payment_method(), v1::PAYMENT_METHOD_CASH);
}

TEST(SaleRecordsTest, TheDeltaAddsTheSaleItsPaymentAndTheCreditUsed) {
  const RecordSaleCommand cmd = TwoLines();
  v1::Sale record;
  const entries::SaleFacts facts = NewSaleFacts(cmd, record, 11'500, 1'000'000);
  EXPECT_EQ(facts.amounts.outstanding(), 6'500);  // 11,500 - 4,000 paid - 1,000 credit
  EXPECT_EQ(facts.due, absl::CivilDay(2026, 3, 31));
  const entries::StatsDelta delta = SaleStatsDelta(cmd, facts);
  ASSERT_EQ(delta.new_sales.size(), 1u);
  EXPECT_EQ(delta.new_sales[0].net_total, 11'500);
  EXPECT_EQ(delta.new_sales[0].outstanding, 6'500);
  EXPECT_EQ(delta.credit_used, 1'000);
  ASSERT_EQ(delta.new_payments.size(), 1u);
  EXPECT_EQ(delta.new_payments[0].amount, 4'000);
  EXPECT_FALSE(delta.new_payments[0].origin_payment);  // not a payment of its own
  EXPECT_EQ(delta.new_payments[0].unallocated, 0);
  EXPECT_TRUE(delta.paid_sales.empty());
}

TEST(SaleRecordsTest, AnUnpaidSaleAddsNoPayment) {
  RecordSaleCommand cmd = TwoLines();
  cmd.paid_now = 0;
  cmd.apply_credit = 0;
  const entries::StatsDelta delta = SaleStatsDelta(cmd, NewSaleFacts(cmd, {}, 11'500, 0));
  EXPECT_TRUE(delta.new_payments.empty());
  EXPECT_EQ(delta.new_sales[0].outstanding, 11'500);
}

}  // namespace
}  // namespace kelola::ledger
