#pragma once

// Recency / frequency / monetary scores and segments (R5, summary_card.proto
// CustomerSegment), as pure functions. Scores are 1–5 by quintile among the tenant's
// customers who bought in the 365 days before today: score = ceil(5 × rank / n), where rank
// is how many of the n customers have a value no better than the customer's own, so ties
// get the higher score; 0 for a customer who did not buy in the window.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/civil_time.h"
#include "kelola/report/v1/summary_card.pb.h"

namespace kelola::report::domain {

// Days in the scoring window (today and the 364 before it).
inline constexpr int kRfmWindowDays = 365;

// A customer's purchases within the window.
struct RfmValues {
  int64_t frequency = 0;                // counted sales in the window; 0: none
  int64_t monetary = 0;                 // their net total
  std::optional<int32_t> recency_days;  // today − the last one's date
};

struct RfmScores {
  int32_t recency = 0;
  int32_t frequency = 0;
  int32_t monetary = 0;
  bool operator==(const RfmScores&) const = default;
};

// The tenant's distribution of values among customers who bought in the window.
class RfmScale {
 public:
  explicit RfmScale(const std::vector<RfmValues>& customers);
  RfmScores ScoresOf(const RfmValues& values) const;
  int64_t size() const { return static_cast<int64_t>(recency_.size()); }

 private:
  std::vector<int32_t> recency_;  // ascending
  std::vector<int64_t> frequency_;
  std::vector<int64_t> monetary_;
};

// What segments a customer beyond the window scores: lifetime first and last purchase days.
struct Lifetime {
  std::optional<absl::CivilDay> first_purchase;
  std::optional<absl::CivilDay> last_purchase;
};

// The first rule that matches, in the contract's order: NO_PURCHASES, NEW, INACTIVE, BEST,
// AT_RISK, LOYAL, REGULAR.
v1::CustomerSegment SegmentOf(const Lifetime& lifetime, const RfmScores& scores,
                              absl::CivilDay today);

}  // namespace kelola::report::domain
