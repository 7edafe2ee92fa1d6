#include "customer-svc/store/remembered_keys.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "customer-svc/store/query_sql.h"

namespace kelola::customer::store {
namespace {

constexpr char kInsertKeySubjects[] =
    "INSERT INTO idempotency_keys (tenant_id, scope, request_id, request_hash, response, "
    "create_time_micros, subject_id)";
constexpr size_t kKeySubjectColumns = 7;
constexpr char kKeySubjectConflict[] =
    " ON CONFLICT (tenant_id, scope, request_id) DO UPDATE SET subject_id = "
    "excluded.subject_id";

}  // namespace

RememberedKeys::RememberedKeys(DirectoryTx& tx)
    : tx_(tx.transaction()), tenant_(tx.tenant_id()), now_(tx.now()) {}

absl::StatusOr<std::optional<std::string>> RememberedKeys::SubjectOf(absl::string_view scope,
                                                                     absl::string_view key) {
  auto rows = tx_.Query(
      "SELECT subject_id FROM idempotency_keys WHERE tenant_id = ? AND scope = ? AND "
      "request_id = ?",
      {tenant_, std::string(scope), std::string(key)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0].GetText(0));
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> RememberedKeys::SubjectsOf(
    absl::string_view scope, const std::vector<std::string>& keys) {
  absl::flat_hash_map<std::string, std::string> out;
  absl::Status read = query_sql::ForEachInListChunk(keys.size(), [&](size_t begin, size_t end) {
    std::vector<db::Value> params = {tenant_, std::string(scope)};
    params.insert(params.end(), keys.begin() + begin, keys.begin() + end);
    auto rows = tx_.Query(absl::StrCat("SELECT request_id, subject_id FROM idempotency_keys "
                                       "WHERE tenant_id = ? AND scope = ? AND request_id IN (",
                                       db::Placeholders(end - begin), ")"),
                          params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) out[r.GetText(0)] = r.GetText(1);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return out;
}

absl::Status RememberedKeys::Put(absl::string_view scope, absl::string_view key,
                                 absl::string_view customer_id) {
  std::vector<db::Value> row;
  AppendKeySubjectRow(tenant_, scope, key, customer_id, now_, &row);
  return PutKeySubjectRows(tx_, std::move(row));
}

void AppendKeySubjectRow(absl::string_view tenant, absl::string_view scope, absl::string_view key,
                         absl::string_view customer_id, absl::Time now,
                         std::vector<db::Value>* rows) {
  rows->insert(rows->end(),
               {std::string(tenant), std::string(scope), std::string(key), std::string(),
                db::Bytes{std::string()}, absl::ToUnixMicros(now), std::string(customer_id)});
}

absl::Status PutKeySubjectRows(db::Transaction& tx, std::vector<db::Value> rows) {
  return db::InsertRows(tx, kInsertKeySubjects, kKeySubjectColumns, std::move(rows),
                        kKeySubjectConflict);
}

}  // namespace kelola::customer::store
