#include "report-svc/domain/rfm.h"

#include <algorithm>

namespace kelola::report::domain {
namespace {

// ceil(5 × rank / n) for 0 < rank <= n.
int32_t Quintile(int64_t rank, int64_t n) {
  if (n <= 0 || rank <= 0) return 0;
  return static_cast<int32_t>((5 * rank + n - 1) / n);
}

// How many values are <= v (ascending `sorted`).
template <typename T>
int64_t AtMost(const std::vector<T>& sorted, T v) {
  return std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin();
}

}  // namespace

RfmScale::RfmScale(const std::vector<RfmValues>& customers) {
  for (const RfmValues& c : customers) {
    if (c.frequency <= 0 || !c.recency_days.has_value()) continue;
    recency_.push_back(*c.recency_days);
    frequency_.push_back(c.frequency);
    monetary_.push_back(c.monetary);
  }
  std::sort(recency_.begin(), recency_.end());
  std::sort(frequency_.begin(), frequency_.end());
  std::sort(monetary_.begin(), monetary_.end());
}

RfmScores RfmScale::ScoresOf(const RfmValues& values) const {
  if (values.frequency <= 0 || !values.recency_days.has_value()) return {};
  const int64_t n = size();
  RfmScores scores;
  // Fewer days is better: rank = how many bought as long ago or longer.
  const int64_t more_recent =
      std::lower_bound(recency_.begin(), recency_.end(), *values.recency_days) - recency_.begin();
  scores.recency = Quintile(n - more_recent, n);
  scores.frequency = Quintile(AtMost(frequency_, values.frequency), n);
  scores.monetary = Quintile(AtMost(monetary_, values.monetary), n);
  return scores;
}

v1::CustomerSegment SegmentOf(const Lifetime& lifetime, const RfmScores& s, absl::CivilDay today) {
  if (!lifetime.first_purchase.has_value() || !lifetime.last_purchase.has_value()) {
    return v1::CUSTOMER_SEGMENT_NO_PURCHASES;
  }
  if (today - *lifetime.first_purchase < 30) return v1::CUSTOMER_SEGMENT_NEW;
  if (today - *lifetime.last_purchase >= 180) return v1::CUSTOMER_SEGMENT_INACTIVE;
  if (s.recency >= 4 && s.frequency >= 4 && s.monetary >= 4) return v1::CUSTOMER_SEGMENT_BEST;
  if (s.recency <= 2 && (s.frequency >= 3 || s.monetary >= 3)) return v1::CUSTOMER_SEGMENT_AT_RISK;
  if (s.frequency >= 4) return v1::CUSTOMER_SEGMENT_LOYAL;
  return v1::CUSTOMER_SEGMENT_REGULAR;
}

}  // namespace kelola::report::domain
