#include "report-svc/store/report_reads.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace kelola::report::store {
namespace {

// "AND <column> = ?" when `value` is set, with its parameter.
void AndEquals(std::string& sql, std::vector<db::Value>& params, absl::string_view column,
               const std::string& value) {
  if (value.empty()) return;
  absl::StrAppend(&sql, " AND ", column, " = ?");
  params.push_back(value);
}

}  // namespace

absl::StatusOr<std::vector<CustomerSales>> SalesByCustomer(
    db::Transaction& tx, const std::string& tenant_id, absl::Time from, absl::Time to,
    const std::string& store_id, const std::vector<std::string>* customer_ids) {
  std::string sql =
      "SELECT customer_id, SUM(net_total_minor), COUNT(*), MIN(sale_us), MAX(sale_us) FROM "
      "report_sales WHERE tenant_id = ? AND sale_us >= ? AND sale_us < ? AND counted = 1 AND "
      "customer_id <> ''";
  std::vector<db::Value> params = {tenant_id, UnixMicrosOrLimit(from), UnixMicrosOrLimit(to)};
  AndEquals(sql, params, "store_id", store_id);
  if (customer_ids != nullptr) {
    if (customer_ids->empty()) return std::vector<CustomerSales>();
    sql += " AND customer_id IN (";
    for (size_t i = 0; i < customer_ids->size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      params.push_back((*customer_ids)[i]);
    }
    sql += ")";
  }
  sql += " GROUP BY customer_id";
  auto rows = tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<CustomerSales> out;
  out.reserve(rows->size());
  for (const db::Row& r : *rows) {
    out.push_back({r.GetText(0), r.GetInt(1), r.GetInt(2), absl::FromUnixMicros(r.GetInt(3)),
                   absl::FromUnixMicros(r.GetInt(4))});
  }
  return out;
}

}  // namespace kelola::report::store
