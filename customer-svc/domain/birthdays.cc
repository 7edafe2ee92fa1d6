#include "customer-svc/domain/birthdays.h"

#include <algorithm>
#include <set>

namespace kelola::customer::domain {
namespace {

bool IsLeap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

absl::CivilDay OccurrenceIn(int64_t year, int month, int day) {
  if (month == 2 && day == 29 && !IsLeap(year)) return absl::CivilDay(year, 2, 28);
  return absl::CivilDay(year, month, day);
}

}  // namespace

absl::CivilDay NextBirthday(absl::CivilDay today, int month, int day) {
  absl::CivilDay date = OccurrenceIn(today.year(), month, day);
  if (date < today) date = OccurrenceIn(today.year() + 1, month, day);
  return date;
}

std::vector<BirthdayHit> UpcomingBirthdays(absl::CivilDay today, int days,
                                           const std::vector<BirthdayInput>& customers) {
  struct Keyed {
    BirthdayHit hit;
    const BirthdayInput* input;
  };
  std::vector<Keyed> hits;
  for (const auto& c : customers) {
    if (c.month < 1 || c.month > 12 || c.day < 1) continue;
    const absl::CivilDay next = NextBirthday(today, c.month, c.day);
    const int until = static_cast<int>(next - today);
    if (until >= days) continue;
    BirthdayHit hit;
    hit.customer_id = c.customer_id;
    hit.next_birthday = next;
    hit.days_until = until;
    hit.turning_age = c.year > 0 ? static_cast<int>(next.year() - c.year) : 0;
    hits.push_back({hit, &c});
  }
  std::sort(hits.begin(), hits.end(), [](const Keyed& a, const Keyed& b) {
    if (a.hit.days_until != b.hit.days_until) return a.hit.days_until < b.hit.days_until;
    if (a.input->sort_name != b.input->sort_name) return a.input->sort_name < b.input->sort_name;
    return a.hit.customer_id < b.hit.customer_id;
  });
  std::vector<BirthdayHit> out;
  out.reserve(hits.size());
  for (auto& k : hits) out.push_back(std::move(k.hit));
  return out;
}

std::vector<std::pair<int, int>> WindowMonthDays(absl::CivilDay today, int days) {
  std::set<std::pair<int, int>> set;
  for (int i = 0; i < days; ++i) {
    const absl::CivilDay d = today + i;
    set.insert({d.month(), d.day()});
    if (d.month() == 2 && d.day() == 28 && !IsLeap(d.year())) set.insert({2, 29});
  }
  return {set.begin(), set.end()};
}

}  // namespace kelola::customer::domain
