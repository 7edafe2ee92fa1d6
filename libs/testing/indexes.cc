#include "libs/testing/indexes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kelola::testing {

absl::StatusOr<std::map<std::string, std::string>> IndexesOn(db::Database& db,
                                                             const std::vector<std::string>& tables,
                                                             bool with_keys) {
  const std::string in = absl::StrCat("IN (",
                                      absl::StrJoin(tables, ", ",
                                                    [](std::string* out, const std::string& t) {
                                                      absl::StrAppend(out, "'", t, "'");
                                                    }),
                                      ")");
  const bool pg = db.dialect() == db::Dialect::kPostgres;
  const std::string sql =
      pg ? absl::StrCat(
               "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
               "current_schema() AND i.tablename ",
               in,
               with_keys ? ""
                         : " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
                           "c.conname = i.indexname)")
         : absl::StrCat(
               "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' "
               "AND tbl_name ",
               in, with_keys ? "" : " AND sql IS NOT NULL");
  std::map<std::string, std::string> out;
  absl::Status s = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query(sql);
    if (!rows.ok()) return rows.status();
    out.clear();
    for (const auto& r : *rows) out[r.GetText(0)] = r.GetText(1);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace kelola::testing
