#include "ledger-svc/store/directory_projection.h"

#include <iterator>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kelola::ledger {
namespace {

using customer_stream::CustomerRow;
using customer_stream::CustomerState;

// The projection's columns, in the order DirectoryRowOf reads them.
constexpr const char* kColumns[] = {"version", "state", "merged_into", "category_id"};
static_assert(std::size(kColumns) == kDirectoryColumns);

absl::StatusOr<std::optional<CustomerRow>> Load(db::Transaction& tx, const std::string& tenant_id,
                                                const std::string& customer_id) {
  auto rows = tx.Query(
      "SELECT version, state, merged_into, category_id FROM directory_customers "
      "WHERE tenant_id = ? AND customer_id = ?",
      {tenant_id, customer_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::nullopt;
  return DirectoryRowOf(rows->front(), 0, customer_id);
}

}  // namespace

db::Migration DirectoryProjectionMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "customer-svc's directory as the ledger needs it";
  // state: customer_stream::CustomerState.
  m.sqlite = R"sql(
CREATE TABLE directory_customers (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  state INTEGER NOT NULL,
  category_id TEXT NOT NULL,
  merged_into TEXT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
)sql";
  return m;
}

absl::Status ApplyDirectoryEvents(db::Transaction& tx, absl::Span<const type::v1::Event> events) {
  // The batch's customers, in the state its events left them; written once at the end.
  std::map<std::pair<std::string, std::string>, CustomerRow> touched;
  for (const type::v1::Event& event : events) {
    std::optional<std::string> customer = customer_stream::CustomerOf(event);
    if (!customer.has_value()) continue;
    auto key = std::make_pair(event.tenant_id(), *customer);
    auto it = touched.find(key);
    if (it == touched.end()) {
      auto loaded = Load(tx, event.tenant_id(), *customer);
      if (!loaded.ok()) return loaded.status();
      CustomerRow row;
      if (loaded->has_value()) {
        row = **loaded;
      } else {
        row.customer_id = *customer;
      }
      it = touched.emplace(key, std::move(row)).first;
    }
    auto next = customer_stream::ReduceCustomer(event, it->second);
    if (!next.ok()) return next.status();
    it->second = *std::move(next);
  }
  for (const auto& [key, row] : touched) {
    if (row.version == 0) continue;  // no event of the batch applied
    if (absl::Status s = RememberDirectoryRow(tx, key.first, row); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string DirectoryColumnsSql(absl::string_view tenant, absl::string_view customer) {
  std::string out;
  for (const char* column : kColumns) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "(SELECT d.", column,
                    " FROM directory_customers d WHERE d.tenant_id = ", tenant,
                    " AND d.customer_id = ", customer, ")");
  }
  return out;
}

std::optional<CustomerRow> DirectoryRowOf(const db::Row& row, size_t first,
                                          const std::string& customer_id) {
  if (row.IsNull(first)) return std::nullopt;
  CustomerRow out;
  out.customer_id = customer_id;
  out.version = row.GetInt(first);
  out.state = static_cast<CustomerState>(row.GetInt(first + 1));
  out.merged_into_customer_id = row.GetText(first + 2);
  out.category_id = row.GetText(first + 3);
  return out;
}

absl::Status RememberDirectoryRow(db::Transaction& tx, const std::string& tenant_id,
                                  const CustomerRow& row) {
  return tx.ExecuteDeferred(
      "INSERT INTO directory_customers (tenant_id, customer_id, version, state, category_id, "
      "merged_into) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, customer_id) DO UPDATE "
      "SET version = excluded.version, state = excluded.state, category_id = "
      "excluded.category_id, merged_into = excluded.merged_into "
      "WHERE excluded.version > directory_customers.version",
      {tenant_id, row.customer_id, row.version, static_cast<int64_t>(row.state), row.category_id,
       row.merged_into_customer_id});
}

}  // namespace kelola::ledger
