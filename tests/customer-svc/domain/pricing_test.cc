#include "customer-svc/domain/pricing.h"

#include "gtest/gtest.h"

namespace kelola::customer::domain {
namespace {

TEST(PricingTest, PriceListWinsOverDiscount) {
  auto q = QuoteUnitPrice({100000, "IDR"}, money::Money{90000, "IDR"}, 1000);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->rule, PriceRuleKind::kPriceList);
  EXPECT_EQ(q->price.amount_minor, 90000);
}

TEST(PricingTest, MemberDiscountRoundsTheDiscountHalfAwayFromZero) {
  // 50% of 0.05 is 0.025: the discount rounds to 0.03, the price is 0.02.
  auto q = QuoteUnitPrice({5, "IDR"}, std::nullopt, 5000);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->rule, PriceRuleKind::kMemberDiscount);
  EXPECT_EQ(q->price.amount_minor, 2);
  EXPECT_EQ(q->discount_bps, 5000);
  // 5% of Rp 12.345,67 = 61728.35 minor units -> 61728; price 1234567 - 61728.
  q = QuoteUnitPrice({1234567, "IDR"}, std::nullopt, 500);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->price.amount_minor, 1234567 - 61728);
}

TEST(PricingTest, NoRuleMeansBasePrice) {
  auto q = QuoteUnitPrice({12345, "THB"}, std::nullopt, 0);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->rule, PriceRuleKind::kBase);
  EXPECT_EQ(q->price, (money::Money{12345, "THB"}));
}

}  // namespace
}  // namespace kelola::customer::domain
