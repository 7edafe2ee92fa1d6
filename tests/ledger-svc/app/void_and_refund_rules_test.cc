#include "gtest/gtest.h"
#include "ledger-svc/app/credit_limits.h"
#include "ledger-svc/app/refund_sale.h"
#include "ledger-svc/app/void_entry.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

using Net = std::vector<std::pair<std::string, int64_t>>;

TEST(VoidRulesTest, OnlyPaymentsOtherThanTheSalesOwnAreReleasedAsCredit) {
  const Net net = {{"own", 4'000}, {"later", 1'500}, {"credit", 500}};
  EXPECT_EQ(ReleasedCredit(net, "own"), 2'000);
  EXPECT_EQ(ReleasedCredit({{"own", 4'000}}, "own"), 0);
  EXPECT_EQ(ReleasedCredit(net, ""), 6'000);  // a sale paid nothing when recorded
}

TEST(VoidRulesTest, ReleasingCreditNeedsTheClientsConsent) {
  VoidSaleCommand cmd{"req-1", "sale-1", "typo", false};
  EXPECT_TRUE(CheckRelease(cmd, 0).ok());
  absl::Status refused = CheckRelease(cmd, 2'000);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(refused), "SALE_HAS_PAYMENTS");
  EXPECT_EQ(errors::GetMetadata(refused).at("allocated"), "2000");
  EXPECT_EQ(errors::GetMetadata(refused).at("sale_id"), "sale-1");
  cmd.release_payments_as_credit = true;
  EXPECT_TRUE(CheckRelease(cmd, 2'000).ok());
}

TEST(RefundRulesTest, WhatIsReturnedReleasesTheNewestAllocationsFirst) {
  const Net net = {{"first", 3'000}, {"second", 1'000}, {"third", 500}};
  EXPECT_EQ(ReleaseNewestFirst(net, 1'200), (Net{{"third", 500}, {"second", 700}}));
  EXPECT_EQ(ReleaseNewestFirst(net, 4'500),
            (Net{{"third", 500}, {"second", 1'000}, {"first", 3'000}}));
  EXPECT_TRUE(ReleaseNewestFirst(net, 0).empty());
}

v1::Sale TwoLineSale() {
  v1::Sale sale;
  sale.add_items()->set_quantity_milli(3'000);
  v1::SaleItem* second = sale.add_items();
  second->set_quantity_milli(2'000);
  second->set_refunded_quantity_milli(1'500);
  return sale;
}

RefundSaleCommand Returning(std::vector<std::pair<int, int64_t>> lines) {
  RefundSaleCommand cmd;
  cmd.sale_id = "sale-1";
  for (const auto& [index, quantity] : lines) {
    v1::RefundItem& item = cmd.items.emplace_back();
    item.set_item_index(index);
    item.set_quantity_milli(quantity);
  }
  return cmd;
}

TEST(RefundRulesTest, ReturnedGoodsAreCheckedAgainstWhatIsLeftOnEachLine) {
  EXPECT_TRUE(CheckReturnedLines(Returning({{0, 3'000}, {1, 500}}), TwoLineSale()).ok());
  absl::Status refused =
      CheckReturnedLines(Returning({{0, 3'001}, {1, 501}, {2, 1}}), TwoLineSale());
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  const std::string text = refused.ToString();
  EXPECT_NE(text.find("items[0].quantity_milli"), std::string::npos) << text;
  EXPECT_NE(text.find("items[1].quantity_milli"), std::string::npos) << text;
  EXPECT_NE(text.find("items[2].item_index"), std::string::npos) << text;
}

TEST(RefundRulesTest, APayOutRefundIsInCashUnlessAnotherMethodIsNamed) {
  LedgerContext ctx;
  ctx.currency = "IDR";
  ctx.principal = "manager-1";
  RefundSaleCommand cmd = Returning({{0, 1'000}});
  cmd.amount = 2'000;
  cmd.settlement = v1::REFUND_SETTLEMENT_PAY_OUT;
  v1::Refund refund = NewRefundRecord(ctx, cmd, "refund-1", "store-9", 1'500, 500);
  EXPECT_EQ(refund.store_id(), "store-9");  // the sale's, none named
  EXPECT_EQ(refund.payout_method(), v1::PAYMENT_METHOD_CASH);
  EXPECT_EQ(refund.settlement(), v1::REFUND_SETTLEMENT_PAY_OUT);
  EXPECT_EQ(refund.debt_reduction().amount_minor(), 1'500);
  EXPECT_EQ(refund.returned_amount().amount_minor(), 500);
  EXPECT_EQ(refund.items_size(), 1);
  cmd.settlement = v1::REFUND_SETTLEMENT_CREDIT;
  cmd.store_id = "store-2";
  refund = NewRefundRecord(ctx, cmd, "refund-1", "store-9", 1'500, 500);
  EXPECT_EQ(refund.store_id(), "store-2");
  EXPECT_EQ(refund.payout_method(), v1::PAYMENT_METHOD_UNSPECIFIED);
  EXPECT_EQ(refund.settlement(), v1::REFUND_SETTLEMENT_CREDIT);
  cmd.settlement = v1::REFUND_SETTLEMENT_UNSPECIFIED;  // pay out, the default
  EXPECT_EQ(NewRefundRecord(ctx, cmd, "r", "s", 0, 0).settlement(), v1::REFUND_SETTLEMENT_PAY_OUT);
}

TEST(CreditLimitRulesTest, TheLimitNamesItsSubject) {
  LedgerContext ctx;
  ctx.currency = "THB";
  ctx.principal = "owner-1";
  SetCreditLimitCommand cmd{"req-1", {LimitSubject::kCategory, "cat-1"}, 50'000};
  v1::CreditLimit limit = NewCreditLimit(ctx, cmd, 5'000'000);
  EXPECT_EQ(cmd.subject.name(), "category");
  EXPECT_EQ(limit.category_id(), "cat-1");
  EXPECT_EQ(limit.limit().amount_minor(), 50'000);
  EXPECT_EQ(limit.limit().currency_code(), "THB");
  EXPECT_EQ(limit.update_by(), "owner-1");
  EXPECT_EQ(limit.update_time().seconds(), 5);
  cmd.subject = {LimitSubject::kCustomer, "cust-1"};
  EXPECT_EQ(cmd.subject.name(), "customer");
  EXPECT_EQ(NewCreditLimit(ctx, cmd, 0).customer_id(), "cust-1");
}

}  // namespace
}  // namespace kelola::ledger
