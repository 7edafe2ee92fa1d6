#include "report-svc/domain/calendar.h"

namespace kelola::report::domain {
namespace {

absl::CivilDay NextBucket(Granularity granularity, absl::CivilDay start) {
  switch (granularity) {
    case Granularity::kDay:
      return start + 1;
    case Granularity::kWeek:
      return start + 7;
    case Granularity::kMonth:
      return absl::CivilDay(absl::CivilMonth(start) + 1);
  }
  return start + 1;
}

}  // namespace

Interval DaysInterval(absl::CivilDay first, absl::CivilDay last, absl::TimeZone zone) {
  return {absl::FromCivil(first, zone), absl::FromCivil(last + 1, zone)};
}

absl::CivilDay BucketStart(Granularity granularity, absl::CivilDay day) {
  switch (granularity) {
    case Granularity::kDay:
      return day;
    case Granularity::kWeek:
      // The Monday on or before `day`.
      return absl::PrevWeekday(day + 1, absl::Weekday::monday);
    case Granularity::kMonth:
      return absl::CivilDay(absl::CivilMonth(day));
  }
  return day;
}

int64_t BucketCount(Granularity granularity, absl::CivilDay start, absl::CivilDay end) {
  if (end < start) return 0;
  const absl::CivilDay first = BucketStart(granularity, start);
  const absl::CivilDay last = BucketStart(granularity, end);
  switch (granularity) {
    case Granularity::kDay:
      return last - first + 1;
    case Granularity::kWeek:
      return (last - first) / 7 + 1;
    case Granularity::kMonth:
      return absl::CivilMonth(last) - absl::CivilMonth(first) + 1;
  }
  return 0;
}

std::vector<Bucket> Buckets(Granularity granularity, absl::CivilDay start, absl::CivilDay end) {
  std::vector<Bucket> out;
  if (end < start) return out;
  const absl::CivilDay stop = BucketStart(granularity, end);
  for (absl::CivilDay b = BucketStart(granularity, start); b <= stop;
       b = NextBucket(granularity, b)) {
    out.push_back({b, NextBucket(granularity, b) - 1});
  }
  return out;
}

AgingThresholds AgingThresholdsOn(absl::CivilDay today, absl::TimeZone zone) {
  return {absl::FromCivil(today - 30, zone), absl::FromCivil(today - 60, zone),
          absl::FromCivil(today - 90, zone)};
}

int64_t DivideHalfUp(int64_t numerator, int64_t denominator) {
  if (denominator <= 0) return 0;
  const int64_t quotient = numerator / denominator;
  const int64_t remainder = numerator % denominator;
  // remainder * 2 >= denominator without overflow.
  return remainder >= denominator - remainder ? quotient + 1 : quotient;
}

}  // namespace kelola::report::domain
