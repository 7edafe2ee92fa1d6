#include "customer-svc/store/planner_statistics.h"

#include <algorithm>

namespace kelola::customer::store {

StatisticsRule DirectoryGrowthRule() {
  return {"customers", 500, 1.0,
          "ANALYZE (SKIP_LOCKED) customers, customer_phones, customer_stats, idempotency_keys"};
}

StatisticsRule StatsProjectionRule() {
  return {"customer_stats", 500, 0.1, "ANALYZE (SKIP_LOCKED) customer_stats"};
}

absl::StatusOr<bool> RefreshIfStale(db::Database& db, const StatisticsRule& rule,
                                    int64_t rows_written) {
  if (db.dialect() != db::Dialect::kPostgres) return false;
  bool stale = false;
  absl::Status s = db.InTransaction(
      [&](db::Transaction& t) -> absl::Status {
        auto rows = t.Query(
            "SELECT s.n_mod_since_analyze, GREATEST(c.reltuples, 0) FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = ?",
            {rule.table});
        if (!rows.ok()) return rows.status();
        if (rows->empty()) return absl::OkStatus();
        const int64_t changed = std::max((*rows)[0].GetInt(0), rows_written);
        stale =
            static_cast<double>(changed) > rule.min_rows + rule.growth * (*rows)[0].GetDouble(1);
        return absl::OkStatus();
      },
      {.read_only = true});
  if (!s.ok()) return s;
  if (!stale) return false;
  s = db.InTransaction([&](db::Transaction& t) { return t.ExecuteScript(rule.analyze); });
  if (!s.ok()) return s;
  return true;
}

}  // namespace kelola::customer::store
