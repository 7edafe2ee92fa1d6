#include "report-svc/store/batch_reads.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kelola::report::store {
namespace {

constexpr size_t kIdsPerQuery = 500;

}  // namespace

absl::StatusOr<std::vector<db::Row>> ReadByKeys(db::Transaction& tx, const std::string& table,
                                                const std::string& key, const std::string& columns,
                                                const std::string& tenant_id,
                                                const std::vector<std::string>& ids) {
  std::vector<db::Row> out;
  for (size_t begin = 0; begin < ids.size(); begin += kIdsPerQuery) {
    const size_t end = std::min(ids.size(), begin + kIdsPerQuery);
    std::string sql = absl::StrCat("SELECT ", columns, " FROM ", table, " WHERE tenant_id = ? AND ",
                                   key, " IN (");
    std::vector<db::Value> params = {tenant_id};
    for (size_t i = begin; i < end; ++i) {
      sql += i == begin ? "?" : ", ?";
      params.push_back(ids[i]);
    }
    sql += ")";
    auto rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    for (db::Row& r : *rows) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace kelola::report::store
