#include "customer-svc/store/customer_stats_projection.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/query_sql.h"

namespace kelola::customer::store {
namespace {

using db::Placeholders;
using db::Value;
using query_sql::kNoActivityAscKey;
using query_sql::kNoActivityDescKey;
using query_sql::kStatsColumns;
using query_sql::StatsFromRow;

std::string StatsMigrationSql(bool pg) {
  const std::string c = pg ? " COLLATE \"C\"" : "";
  std::string sql = R"sql(
CREATE TABLE customer_stats (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  total_spent_minor BIGINT NOT NULL DEFAULT 0,
  transaction_count BIGINT NOT NULL DEFAULT 0,
  balance_minor BIGINT NOT NULL DEFAULT 0,
  first_purchase_micros BIGINT,
  last_purchase_micros BIGINT,
  last_activity_micros BIGINT,
  activity_asc_key BIGINT NOT NULL,
  activity_desc_key BIGINT NOT NULL,
  ledger_version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, customer_id));
)sql";
  const std::vector<std::pair<std::string, std::string>> stats_indexes = {
      {"spent_asc", "total_spent_minor"},   {"spent_desc", "total_spent_minor DESC"},
      {"balance_asc", "balance_minor"},     {"balance_desc", "balance_minor DESC"},
      {"activity_asc", "activity_asc_key"}, {"activity_desc", "activity_desc_key DESC"}};
  for (const auto& [name, column] : stats_indexes) {
    absl::StrAppend(&sql, "CREATE INDEX customer_stats_", name, " ON customer_stats (tenant_id, ",
                    column, ", customer_id", c, ");\n");
  }
  // top_spender_percent: count and rank only the customers with purchases.
  absl::StrAppend(&sql,
                  "CREATE INDEX customer_stats_buyers ON customer_stats (tenant_id, "
                  "total_spent_minor DESC) WHERE transaction_count > 0;\n");
  // Sorts over customers columns. SQLite uses migration 3's customers_by_name and
  // customers_by_created (for both directions since migration 24, which drops the *_desc
  // indexes below); PostgreSQL needs "C" collation indexes.
  absl::StrAppend(&sql,
                  "CREATE INDEX customers_query_name_desc ON customers (tenant_id, state, "
                  "name_sort_key",
                  c, " DESC, customer_id", c, ");\n",
                  "CREATE INDEX customers_query_created_desc ON customers (tenant_id, state, "
                  "create_time_micros DESC, customer_id",
                  c, ");\n");
  if (pg) {
    absl::StrAppend(&sql,
                    "CREATE INDEX customers_query_name_asc ON customers (tenant_id, state, "
                    "name_sort_key COLLATE \"C\", customer_id COLLATE \"C\");\n"
                    "CREATE INDEX customers_query_created_asc ON customers (tenant_id, state, "
                    "create_time_micros, customer_id COLLATE \"C\");\n");
  }
  return sql;
}

std::optional<int64_t> OptMicros(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

Value OptValue(const std::optional<int64_t>& v) {
  if (!v) return db::Null();
  return *v;
}

}  // namespace

namespace stats_projection {

db::Migration StatsProjectionMigration() {
  return {20, "customer stats projection and list sort indexes", StatsMigrationSql(false),
          StatsMigrationSql(true)};
}

db::Migration BuyersPerTenantMigration() {
  db::Migration buyers;
  buyers.version = 22;
  buyers.name = "customers with purchases per tenant";
  buyers.sqlite = R"sql(
CREATE TABLE customer_stats_summary (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  buyers BIGINT NOT NULL);
INSERT INTO customer_stats_summary (tenant_id, buyers)
  SELECT tenant_id, COUNT(*) FROM customer_stats WHERE transaction_count > 0 GROUP BY tenant_id;
)sql";
  return buyers;
}

}  // namespace stats_projection

absl::StatusOr<bool> UpsertStats(db::Transaction& tx, absl::string_view tenant,
                                 absl::string_view customer_id, const CustomerStatsRecord& stats) {
  // The per-tenant number of customers with purchases (for top_spender_percent) follows
  // every change of "has purchases".
  auto old = tx.Query(
      "SELECT transaction_count FROM customer_stats WHERE tenant_id = ? AND customer_id = ?",
      {std::string(tenant), std::string(customer_id)});
  if (!old.ok()) return old.status();
  const bool was_buyer = !old->empty() && (*old)[0].GetInt(0) > 0;
  const auto activity = OptMicros(stats.last_activity_time);
  auto n = tx.Execute(
      "INSERT INTO customer_stats (tenant_id, customer_id, total_spent_minor, transaction_count, "
      "balance_minor, first_purchase_micros, last_purchase_micros, last_activity_micros, "
      "activity_asc_key, activity_desc_key, ledger_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?) ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
      "total_spent_minor = excluded.total_spent_minor, "
      "transaction_count = excluded.transaction_count, balance_minor = excluded.balance_minor, "
      "first_purchase_micros = excluded.first_purchase_micros, "
      "last_purchase_micros = excluded.last_purchase_micros, "
      "last_activity_micros = excluded.last_activity_micros, "
      "activity_asc_key = excluded.activity_asc_key, "
      "activity_desc_key = excluded.activity_desc_key, ledger_version = excluded.ledger_version "
      "WHERE customer_stats.ledger_version < excluded.ledger_version",
      {std::string(tenant), std::string(customer_id), stats.total_spent_minor,
       stats.transaction_count, stats.balance_minor, OptValue(OptMicros(stats.first_purchase_time)),
       OptValue(OptMicros(stats.last_purchase_time)), OptValue(activity),
       activity ? *activity : kNoActivityAscKey, activity ? *activity : kNoActivityDescKey,
       stats.ledger_version});
  if (!n.ok()) return n.status();
  if (*n == 0) return false;
  const bool is_buyer = stats.transaction_count > 0;
  if (is_buyer != was_buyer) {
    auto m = tx.Execute(
        "INSERT INTO customer_stats_summary (tenant_id, buyers) VALUES (?, ?) ON CONFLICT "
        "(tenant_id) DO UPDATE SET buyers = customer_stats_summary.buyers + excluded.buyers",
        {std::string(tenant), int64_t{is_buyer ? 1 : -1}});
    if (!m.ok()) return m.status();
  }
  return true;
}

absl::StatusOr<std::optional<CustomerStatsRecord>> GetStats(db::Transaction& tx,
                                                            absl::string_view tenant,
                                                            absl::string_view customer_id) {
  auto rows = tx.Query(absl::StrCat("SELECT ", kStatsColumns,
                                    " FROM customer_stats s WHERE s.tenant_id = ? AND "
                                    "s.customer_id = ?"),
                       {std::string(tenant), std::string(customer_id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<CustomerStatsRecord>();
  return std::optional<CustomerStatsRecord>(StatsFromRow((*rows)[0], 0));
}

absl::StatusOr<absl::flat_hash_map<std::string, CustomerStatsRecord>> GetStatsOf(
    db::Transaction& tx, absl::string_view tenant, const std::vector<std::string>& customer_ids) {
  absl::flat_hash_map<std::string, CustomerStatsRecord> out;
  absl::Status read = query_sql::ForEachInListChunk(
      customer_ids.size(), [&](size_t begin, size_t end) -> absl::Status {
        std::vector<Value> params = {std::string(tenant)};
        for (size_t i = begin; i < end; ++i) params.push_back(customer_ids[i]);
        auto rows = tx.Query(absl::StrCat("SELECT s.customer_id, ", kStatsColumns,
                                          " FROM customer_stats s WHERE s.tenant_id = ? AND "
                                          "s.customer_id IN (",
                                          Placeholders(end - begin), ")"),
                             params);
        if (!rows.ok()) return rows.status();
        for (const auto& r : *rows) out[r.GetText(0)] = StatsFromRow(r, 1);
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
  return out;
}

absl::Status KeepStatsRow(db::Transaction& tx, absl::string_view tenant_view,
                          absl::string_view id_view, const v1::Customer* written) {
  const std::string tenant(tenant_view), id(id_view);
  if (written == nullptr) {
    auto rows =
        tx.Query("SELECT 1 FROM customers WHERE tenant_id = ? AND customer_id = ?", {tenant, id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {  // deleted (C4): nothing of it stays
      return tx
          .Execute("DELETE FROM customer_stats WHERE tenant_id = ? AND customer_id = ?",
                   {tenant, id})
          .status();
    }
  }
  return KeepStatsRows(tx, tenant, {id});
}

absl::Status KeepStatsRows(db::Transaction& tx, absl::string_view tenant,
                           const std::vector<std::string>& ids) {
  std::vector<db::Value> values;
  values.reserve(ids.size() * 4);
  for (const std::string& id : ids) {
    values.insert(values.end(), {std::string(tenant), id, kNoActivityAscKey, kNoActivityDescKey});
  }
  return db::InsertRows(
      tx,
      "INSERT INTO customer_stats (tenant_id, customer_id, activity_asc_key, activity_desc_key)", 4,
      std::move(values), " ON CONFLICT DO NOTHING");
}

}  // namespace kelola::customer::store
