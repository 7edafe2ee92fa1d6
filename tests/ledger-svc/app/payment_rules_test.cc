#include "gtest/gtest.h"
#include "ledger-svc/app/apply_credit.h"
#include "ledger-svc/app/record_payment.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

RecordPaymentCommand Payment(int64_t amount, bool keep_excess) {
  RecordPaymentCommand cmd;
  cmd.request_id = "req-1";
  cmd.customer_id = "cust-1";
  cmd.store_id = "store-1";
  cmd.amount = amount;
  cmd.method = v1::PAYMENT_METHOD_QRIS;
  cmd.note = "thanks";
  cmd.keep_excess_as_credit = keep_excess;
  return cmd;
}

TEST(PaymentRulesTest, APaymentAllocatedInFullIsNeverAnOverpayment) {
  EXPECT_TRUE(CheckExcess(Payment(1'000, false), 1'000, 5'000).ok());
}

TEST(PaymentRulesTest, MoreThanIsAllocatedNeedsKeepingTheRestAsCredit) {
  absl::Status over = CheckExcess(Payment(1'500, false), 1'000, 1'000);
  EXPECT_EQ(over.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(over), "OVERPAYMENT");
  const errors::Metadata metadata = errors::GetMetadata(over);
  EXPECT_EQ(metadata.at("outstanding"), "1000");
  EXPECT_EQ(metadata.at("attempted"), "1500");
  EXPECT_EQ(metadata.at("excess"), "500");
  EXPECT_TRUE(CheckExcess(Payment(1'500, true), 1'000, 1'000).ok());
}

TEST(PaymentRulesTest, ThePaymentRecordIsOfItsOwnOriginInTheTenantsCurrency) {
  LedgerContext ctx;
  ctx.principal = "cashier-1";
  ctx.currency = "IDR";
  const v1::Payment p =
      NewPaymentRecord(ctx, Payment(2'500, false), "pay-1", 9, 3'000'000, 4'000'000);
  EXPECT_EQ(p.payment_id(), "pay-1");
  EXPECT_EQ(p.number(), 9);
  EXPECT_EQ(p.origin(), v1::PAYMENT_ORIGIN_PAYMENT);
  EXPECT_EQ(p.sale_id(), "");
  EXPECT_EQ(p.amount().amount_minor(), 2'500);
  EXPECT_EQ(p.amount().currency_code(), "IDR");
  EXPECT_EQ(p.method(), v1::PAYMENT_METHOD_QRIS);
  EXPECT_EQ(p.note(), "thanks");
  EXPECT_EQ(p.received_time().seconds(), 3);
  EXPECT_EQ(p.record_time().seconds(), 4);
  EXPECT_EQ(p.recorded_by(), "cashier-1");
}

TEST(PaymentRulesTest, NamedAllocationsMustFitInTheCredit) {
  EXPECT_TRUE(CheckCreditCovers(700, 700).ok());
  absl::Status short_of = CheckCreditCovers(701, 700);
  EXPECT_EQ(short_of.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(short_of), "INSUFFICIENT_CREDIT");
  EXPECT_EQ(errors::GetMetadata(short_of).at("credit"), "700");
  EXPECT_EQ(errors::GetMetadata(short_of).at("attempted"), "701");
}

TEST(PaymentRulesTest, ThePlannedTotalSumsTheAllocations) {
  EXPECT_EQ(PlannedTotal({}), 0);
  EXPECT_EQ(PlannedTotal({{"a", 100}, {"b", 250}}), 350);
}

}  // namespace
}  // namespace kelola::ledger
