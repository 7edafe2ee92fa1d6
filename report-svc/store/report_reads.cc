#include "report-svc/store/report_reads.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace kelola::report::store {

absl::StatusOr<std::vector<CustomerSales>> SalesOfCustomers(
    db::Transaction& tx, const std::string& tenant_id, absl::Time from, absl::Time to,
    const std::vector<std::string>& customer_ids) {
  std::vector<CustomerSales> out;
  if (customer_ids.empty()) return out;
  // "sale_us + 0" keeps the planners on the per-customer index rather than a range of the
  // tenant's sales by time.
  std::string sql =
      "SELECT customer_id, SUM(net_total_minor), COUNT(*), MIN(sale_us), MAX(sale_us) FROM "
      "report_sales WHERE tenant_id = ? AND sale_us + 0 >= ? AND sale_us + 0 < ? AND "
      "counted = 1 AND customer_id IN (";
  std::vector<db::Value> params = {tenant_id, UnixMicrosOrLimit(from), UnixMicrosOrLimit(to)};
  for (size_t i = 0; i < customer_ids.size(); ++i) {
    sql += i == 0 ? "?" : ", ?";
    params.push_back(customer_ids[i]);
  }
  sql += ") GROUP BY customer_id";
  auto rows = tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  out.reserve(rows->size());
  for (const db::Row& r : *rows) {
    out.push_back({r.GetText(0), r.GetInt(1), r.GetInt(2), absl::FromUnixMicros(r.GetInt(3)),
                   absl::FromUnixMicros(r.GetInt(4))});
  }
  return out;
}

}  // namespace kelola::report::store
