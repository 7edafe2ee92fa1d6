#include "ledger-svc/domain/sale_math.h"

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

TEST(SaleMathTest, LineAmountRoundsHalfUpAndSubtractsDiscount) {
  // 1.5 kg at 10,001 minor units = 15,001.5 -> 15,002.
  auto amount = LineAmount({1500, 10001, 0});
  ASSERT_TRUE(amount.ok());
  EXPECT_EQ(*amount, 15002);
  // 0.333 units of 100 = 33.3 -> 33; minus 3.
  amount = LineAmount({333, 100, 3});
  ASSERT_TRUE(amount.ok());
  EXPECT_EQ(*amount, 30);
}

TEST(SaleMathTest, TotalsAndOverflow) {
  auto totals = ComputeTotals({{2000, 5000, 1000}, {1000, 300, 0}}, 300);
  ASSERT_TRUE(totals.ok());
  EXPECT_EQ(totals->line_amounts, (std::vector<int64_t>{9000, 300}));
  EXPECT_EQ(totals->subtotal, 9300);
  EXPECT_EQ(totals->total, 9000);
  auto overflow = ComputeTotals({{1000000000000, INT64_MAX / 2, 0}}, 0);
  EXPECT_EQ(errors::Reason(overflow.status()), "AMOUNT_OVERFLOW");
  auto sum = ComputeTotals({{1000, INT64_MAX, 0}, {1000, 1, 0}}, 0);
  EXPECT_EQ(errors::Reason(sum.status()), "AMOUNT_OVERFLOW");
}

TEST(SaleMathTest, StatusFollowsAmounts) {
  EXPECT_EQ((SaleAmounts{100, 0, 0, false}.status()), SaleStatus::kUnpaid);
  EXPECT_EQ((SaleAmounts{100, 40, 0, false}.status()), SaleStatus::kPartial);
  EXPECT_EQ((SaleAmounts{100, 100, 0, false}.status()), SaleStatus::kPaid);
  EXPECT_EQ((SaleAmounts{0, 0, 0, false}.status()), SaleStatus::kPaid);  // a free sale
  EXPECT_EQ((SaleAmounts{100, 0, 100, false}.status()), SaleStatus::kRefunded);
  EXPECT_EQ((SaleAmounts{100, 60, 40, false}.status()), SaleStatus::kPaid);
  EXPECT_EQ((SaleAmounts{100, 60, 40, true}.status()), SaleStatus::kVoided);
  EXPECT_EQ((SaleAmounts{100, 60, 40, true}.outstanding()), 0);
  EXPECT_EQ((SaleAmounts{100, 30, 20, false}.outstanding()), 50);
}

TEST(SaleMathTest, DaysOverdue) {
  const absl::CivilDay today(2026, 1, 10);
  EXPECT_EQ(DaysOverdue(absl::CivilDay(2026, 1, 3), 100, today), 7);
  EXPECT_EQ(DaysOverdue(absl::CivilDay(2026, 1, 10), 100, today), 0);
  EXPECT_EQ(DaysOverdue(absl::CivilDay(2026, 1, 3), 0, today), 0);
  EXPECT_EQ(DaysOverdue(std::nullopt, 100, today), 0);
}

TEST(SaleMathTest, AllocateOldestFirst) {
  auto plan = AllocateOldestFirst(250, {{"a", 100}, {"b", 0}, {"c", 100}, {"d", 100}});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].sale_id, "a");
  EXPECT_EQ(plan[1].sale_id, "c");
  EXPECT_EQ(plan[2].sale_id, "d");
  EXPECT_EQ(plan[2].amount, 50);
  EXPECT_TRUE(AllocateOldestFirst(0, {{"a", 100}}).empty());
}

TEST(SaleMathTest, AverageOrderRoundsHalfUp) {
  EXPECT_EQ(AverageOrder(10, 4), 3);  // 2.5 -> 3
  EXPECT_EQ(AverageOrder(10, 3), 3);
  EXPECT_EQ(AverageOrder(10, 0), 0);
}

}  // namespace
}  // namespace kelola::ledger
