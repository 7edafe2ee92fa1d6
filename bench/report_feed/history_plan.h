#pragma once

// The shape of the synthetic history the report benchmark feeds to report-svc: one tenant,
// `customers` customers created evenly over `span` (two years) and `sales` sales spread
// evenly over the same span, ending at `end`. Everything derived from a (seed, index) pair
// through Mix, so any stream position is reproducible without stored state beyond what
// the histories keep per customer.

#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/type/v1/money.pb.h"

namespace kelola::bench {

struct HistoryPlan {
  std::string tenant_id = "bench";
  int64_t customers = 100000;
  int64_t sales = 10000000;
  uint64_t seed = 7;
  absl::Time end;  // the history covers [end - span, end)
  absl::Duration span = absl::Hours(24 * 730);

  static constexpr int kCategories = 6;
  static constexpr int kStores = 4;

  absl::Time start() const { return end - span; }
  // When customer `c` (0-based) was created: customers arrive evenly over the span.
  absl::Time CustomerCreated(int64_t c) const;
  // How many customers exist at `t` (those created at or before it); at least 1.
  int64_t CustomersBy(absl::Time t) const;
  std::string CustomerId(int64_t c) const;
  std::string CategoryId(int k) const;
  std::string StoreId(int s) const;
};

// The tenant's zone (Asia/Jakarta: UTC+7 all year, no daylight saving time).
absl::TimeZone TenantZone();
absl::CivilDay TenantDay(absl::Time t);

// A well-mixed 64-bit value of (a, b, c) (splitmix64 rounds): the benchmark's only source
// of randomness.
uint64_t Mix(uint64_t a, uint64_t b, uint64_t c = 0);

// A UUIDv7-shaped id in canonical text form whose time part is `t` (so ids sort by
// creation time as the services' own do) and whose other bits come from `index`.
std::string SyntheticUuid(absl::Time t, uint64_t index);

// An amount in the tenant's currency (IDR, minor units).
type::v1::Money Idr(int64_t minor);

}  // namespace kelola::bench
