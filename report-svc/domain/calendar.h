#pragma once

// Days of the tenant's time zone as intervals of instants, and the buckets of a series.
// Everything is stored in UTC; a local day becomes [its start, the next day's start) only at
// read time, so that a change of the tenant's time zone re-dates every report at once.

#include <cstdint>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace kelola::report::domain {

// [start of `first`, start of the day after `last`) in `zone`.
struct Interval {
  absl::Time from;
  absl::Time to;  // exclusive
  bool Contains(absl::Time t) const { return from <= t && t < to; }
};
Interval DaysInterval(absl::CivilDay first, absl::CivilDay last, absl::TimeZone zone);

// The local day of an instant.
inline absl::CivilDay DayOf(absl::Time t, absl::TimeZone zone) { return absl::ToCivilDay(t, zone); }

enum class Granularity { kDay, kWeek, kMonth };

struct Bucket {
  absl::CivilDay first;
  absl::CivilDay last;  // inclusive
};

// The first day of `day`'s bucket: itself, its ISO week's Monday, or the 1st of its month.
absl::CivilDay BucketStart(Granularity granularity, absl::CivilDay day);

// How many buckets [start, end] spans once rounded out to whole buckets (0 if end < start).
int64_t BucketCount(Granularity granularity, absl::CivilDay start, absl::CivilDay end);

// The buckets of [start, end] rounded out, oldest first, none missing.
std::vector<Bucket> Buckets(Granularity granularity, absl::CivilDay start, absl::CivilDay end);

// The age buckets of receivables (R3): a sale's age is `today − its sale day`; buckets
// 0–30, 31–60, 61–90 and over 90 days. As instants, so that sales are bucketed without
// converting each to a day: a sale is at most 30 days old when it is at or after the start
// of today − 30, and so on.
struct AgingThresholds {
  absl::Time days_30;  // start of today − 30
  absl::Time days_60;
  absl::Time days_90;
  // 0..3: the bucket of a sale made at `t`.
  int BucketOf(absl::Time t) const {
    if (t >= days_30) return 0;
    if (t >= days_60) return 1;
    if (t >= days_90) return 2;
    return 3;
  }
};
AgingThresholds AgingThresholdsOn(absl::CivilDay today, absl::TimeZone zone);

// numerator / denominator rounded half up (both >= 0); 0 when the denominator is 0.
int64_t DivideHalfUp(int64_t numerator, int64_t denominator);

}  // namespace kelola::report::domain
