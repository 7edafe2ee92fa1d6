#pragma once

// Upcoming birthdays (C18): which birthdays fall inside a window of days counted in the
// tenant's time zone, across the year end, with 29 February falling on 28 February in
// common years. Pure calendar arithmetic.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"

namespace kelola::customer::domain {

struct BirthdayInput {
  std::string customer_id;
  std::string sort_name;  // display name (ties broken by name, then id)
  int year = 0;           // 0 when unknown
  int month = 0;
  int day = 0;
};

struct BirthdayHit {
  std::string customer_id;
  absl::CivilDay next_birthday;
  int days_until = 0;   // 0 = today
  int turning_age = 0;  // 0 when the year is unknown
};

// The next occurrence of month/day on or after `today` (29 February -> 28 February in
// common years).
absl::CivilDay NextBirthday(absl::CivilDay today, int month, int day);

// The birthdays within `days` days counting today as day 1 (days >= 1), ordered by date,
// then name, then id.
std::vector<BirthdayHit> UpcomingBirthdays(absl::CivilDay today, int days,
                                           const std::vector<BirthdayInput>& customers);

// The (month, day) pairs that the window covers, for narrowing a query: every calendar day
// from today on, plus 29 February whenever 28 February of a common year is in the window.
std::vector<std::pair<int, int>> WindowMonthDays(absl::CivilDay today, int days);

}  // namespace kelola::customer::domain
