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
  auto plan = AllocateOldestFirst(
      250, {{"a", 100, {}, {}}, {"b", 0, {}, {}}, {"c", 100, {}, {}}, {"d", 100, {}, {}}});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].sale_id, "a");
  EXPECT_EQ(plan[1].sale_id, "c");
  EXPECT_EQ(plan[2].sale_id, "d");
  EXPECT_EQ(plan[2].amount, 50);
  EXPECT_TRUE(AllocateOldestFirst(0, {{"a", 100, {}, {}}}).empty());
}

TEST(SaleMathTest, SalePlacesOrderBySaleTimeThenNumber) {
  EXPECT_LT((SalePlace{10, 9}), (SalePlace{11, 1}));
  EXPECT_LT((SalePlace{10, 1}), (SalePlace{10, 2}));
  EXPECT_FALSE((SalePlace{10, 2}) < (SalePlace{10, 2}));
}

TEST(SaleMathTest, SettledBeforeMovesToTheLastSaleAPlanPays) {
  const std::vector<OpenSale> open = {
      {"a", 100, {10, 1}, {}}, {"b", 100, {20, 2}, {}}, {"c", 100, {30, 3}, {}}};
  // a paid in full, b in part: everything before b is settled; b itself is not.
  auto after = SettledBeforeAfterPlan(SalePlace{5, 0}, open, AllocateOldestFirst(150, open));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, (SalePlace{20, 2}));
  // From an unknown start, the same.
  EXPECT_EQ(SettledBeforeAfterPlan(std::nullopt, open, AllocateOldestFirst(150, open)),
            (SalePlace{20, 2}));
  // Exactly a and b: b is settled too, but the bound stays at it (read again, at no cost).
  EXPECT_EQ(SettledBeforeAfterPlan(std::nullopt, open, AllocateOldestFirst(200, open)),
            (SalePlace{20, 2}));
  // Nothing allocated (no open sale, or nothing to give): the bound stays where it was.
  EXPECT_EQ(SettledBeforeAfterPlan(SalePlace{5, 0}, {}, {}), (SalePlace{5, 0}));
  EXPECT_EQ(SettledBeforeAfterPlan(std::nullopt, open, AllocateOldestFirst(0, open)), std::nullopt);
  // A plan over other sales than `open` teaches nothing.
  EXPECT_EQ(SettledBeforeAfterPlan(SalePlace{5, 0}, open, {{"z", 10}}), (SalePlace{5, 0}));
}

TEST(SaleMathTest, AnOpenSalePlacedBeforeTheBoundMovesItBack) {
  const SalePlace bound{100, 50};
  // A new sale after the bound, open or settled: unchanged.
  EXPECT_EQ(SettledBeforeWithSale(bound, {200, 60}, true), bound);
  // Recorded late with an earlier sale time: open moves the bound back to it.
  EXPECT_EQ(SettledBeforeWithSale(bound, {50, 61}, true), (SalePlace{50, 61}));
  // ... paid in full at once: it is settled, the bound stays.
  EXPECT_EQ(SettledBeforeWithSale(bound, {50, 61}, false), bound);
  // Unknown stays unknown.
  EXPECT_EQ(SettledBeforeWithSale(std::nullopt, {50, 61}, true), std::nullopt);
}

TEST(SaleMathTest, AverageOrderRoundsHalfUp) {
  EXPECT_EQ(AverageOrder(10, 4), 3);  // 2.5 -> 3
  EXPECT_EQ(AverageOrder(10, 3), 3);
  EXPECT_EQ(AverageOrder(10, 0), 0);
}

}  // namespace
}  // namespace kelola::ledger
