#pragma once

// PostgreSQL's planner statistics of the directory kept current under bulk writes. The
// planner estimates a filter from statistics gathered by ANALYZE; autovacuum refreshes them
// once a table changed by a tenth, but only at its next round (up to a minute later). Until
// then a plan is made from the old picture: after an import into an empty directory every
// index looks equally cheap, and after a backfill of ledger stats into rows that were all
// zero `has_balance = true` looks like one row, so a list sorted by total_spent reads every
// debtor and sorts them (250 ms at 100,000 customers) instead of walking the order's index.
// SQLite keeps no such statistics: nothing to do there.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

struct StatisticsRule {
  std::string table;  // whose change counter decides
  // Stale once the table changed by more than `min_rows` plus `growth` times the rows the
  // last analysis counted.
  double min_rows = 500;
  double growth = 0.1;
  // The ANALYZE statement run when stale. SKIP_LOCKED: a table another session is analyzing
  // (autovacuum, another replica) is left to it.
  std::string analyze;
};

// The directory after an import's batch (inserts): stale when the customers roughly doubled,
// since a plan goes wrong when the estimate is off by orders of magnitude, not by a tenth;
// analyzes the tables the directory's statements read.
StatisticsRule DirectoryGrowthRule();
// The stats projection under the ledger's feed (updates that change which customers owe or
// bought): autovacuum's own rule, a tenth, applied at once; analyzes customer_stats.
StatisticsRule StatsProjectionRule();

// Runs rule.analyze when rule.table changed by more than the rule allows since its last
// analysis: by PostgreSQL's counter of changed rows, or by `rows_written` when that is more
// (the counter lags up to a second behind the writes). Answers whether it analyzed.
absl::StatusOr<bool> RefreshIfStale(db::Database& db, const StatisticsRule& rule,
                                    int64_t rows_written = 0);

}  // namespace kelola::customer::store
