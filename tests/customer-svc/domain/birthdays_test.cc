#include "customer-svc/domain/birthdays.h"

#include "gtest/gtest.h"

namespace kelola::customer::domain {
namespace {

TEST(BirthdaysTest, WindowWrapsAcrossTheYearEnd) {
  const absl::CivilDay today(2026, 12, 28);
  std::vector<BirthdayInput> in = {{"jan2", "b", 1990, 1, 2},
                                   {"dec28", "a", 0, 12, 28},
                                   {"dec27", "c", 0, 12, 27},  // yesterday: next year
                                   {"jan4", "d", 0, 1, 4}};    // day 8: outside 7 days
  auto hits = UpcomingBirthdays(today, 7, in);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].customer_id, "dec28");
  EXPECT_EQ(hits[0].days_until, 0);
  EXPECT_EQ(hits[1].customer_id, "jan2");
  EXPECT_EQ(hits[1].next_birthday, absl::CivilDay(2027, 1, 2));
  EXPECT_EQ(hits[1].days_until, 5);
  EXPECT_EQ(hits[1].turning_age, 37);
}

TEST(BirthdaysTest, TwentyNinthOfFebruaryFallsOnTheTwentyEighthInCommonYears) {
  EXPECT_EQ(NextBirthday(absl::CivilDay(2027, 2, 1), 2, 29), absl::CivilDay(2027, 2, 28));
  EXPECT_EQ(NextBirthday(absl::CivilDay(2028, 2, 1), 2, 29), absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(NextBirthday(absl::CivilDay(2027, 3, 1), 2, 29), absl::CivilDay(2028, 2, 29));
  const auto md = WindowMonthDays(absl::CivilDay(2027, 2, 27), 2);
  EXPECT_NE(std::find(md.begin(), md.end(), std::make_pair(2, 29)), md.end());
}

TEST(BirthdaysTest, TiesAreOrderedByNameThenId) {
  const absl::CivilDay today(2026, 5, 1);
  auto hits = UpcomingBirthdays(
      today, 1, {{"2", "budi", 0, 5, 1}, {"1", "budi", 0, 5, 1}, {"3", "ani", 0, 5, 1}});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].customer_id, "3");
  EXPECT_EQ(hits[1].customer_id, "1");
  EXPECT_EQ(hits[2].customer_id, "2");
}

TEST(BirthdaysTest, FullYearWindowCoversEveryDayOnce) {
  const absl::CivilDay today(2026, 3, 15);
  auto hits = UpcomingBirthdays(today, 366, {{"x", "x", 0, 3, 14}});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].days_until, 364);
}

}  // namespace
}  // namespace kelola::customer::domain
