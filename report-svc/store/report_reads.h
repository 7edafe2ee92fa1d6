#pragma once

// The shapes the reports read from store/fact_index.h: per-customer sales, per-slot
// amounts, filters.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/customer_stream/customer_reducer.h"
#include "libs/db/database.h"
#include "report-svc/domain/summary_card.h"

namespace kelola::report::store {

// Unix microseconds of `t`, with the infinite instants as the int64 limits.
inline int64_t UnixMicrosOrLimit(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixMicros(t);
}

// A customer's counted sales (not voided) within an interval.
struct CustomerSales {
  std::string customer_id;
  int64_t total = 0;  // net totals
  int64_t count = 0;
  absl::Time first;
  absl::Time last;
};

// Amounts per 15-minute slot of UTC (slot = unix micros / kSlotMicros); every time zone's
// offset is a multiple of 15 minutes, so each slot lies within one local day of any zone.
inline constexpr int64_t kSlotMicros = int64_t{15} * 60 * 1000 * 1000;
struct SlotAmount {
  int64_t slot = 0;
  int64_t amount = 0;
  int64_t count = 0;
};

// What the series filter by: a store ("" = all) and a customer category (nullopt = all,
// "" = customers without one).
struct SeriesFilter {
  std::string store_id;
  std::optional<std::string> category_id;
};

}  // namespace kelola::report::store
