#include "customer-svc/store/category_records.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/customer_rows.h"
#include "libs/db/row_values.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::store {
namespace {

std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

int64_t Micros(const google::protobuf::Timestamp& t) { return time::ToUnixMicros(t); }

}  // namespace

std::vector<db::Value> CategoryRecords::MemberParams(absl::string_view category_id) const {
  return {tenant_, std::string(category_id), static_cast<int64_t>(v1::CUSTOMER_STATE_ACTIVE),
          static_cast<int64_t>(v1::CUSTOMER_STATE_ARCHIVED),
          static_cast<int64_t>(v1::CUSTOMER_STATE_MERGING)};
}

CategoryRecords::CategoryRecords(DirectoryTx& tx)
    : tx_(tx.transaction()), tenant_(tx.tenant_id()), now_(tx.now()) {}

absl::StatusOr<bool> CategoryRecords::DefaultCategoriesSeeded() {
  auto rows = tx_.Query("SELECT 1 FROM tenant_category_seed WHERE tenant_id = ?", {tenant_});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::Status CategoryRecords::EnsureDefaultCategories() {
  auto seeded = tx_.Execute(
      "INSERT INTO tenant_category_seed (tenant_id, create_time_micros) VALUES (?, ?) ON "
      "CONFLICT (tenant_id) DO NOTHING",
      {tenant_, absl::ToUnixMicros(now_)});
  if (!seeded.ok()) return seeded.status();
  if (*seeded == 0) return absl::OkStatus();
  for (const auto& d : domain::DefaultCategories()) {
    StoredCategory c;
    c.version = 1;
    c.category.set_category_id(d.id);
    c.category.set_display_name(d.name);
    *c.category.mutable_create_time() = time::TimestampFromUnixMicros(absl::ToUnixMicros(now_));
    *c.category.mutable_update_time() = c.category.create_time();
    c.category.set_etag("v1");
    auto n = tx_.Execute(
        "INSERT INTO categories (tenant_id, category_id, display_name, name_folded, "
        "member_discount_bps, version, create_time_micros, update_time_micros, data) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        CategoryParams(c));
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<StoredCategory>> CategoryRecords::FindCategory(absl::string_view id) {
  return OneCategory("category_id", std::string(id));
}
absl::StatusOr<std::optional<StoredCategory>> CategoryRecords::FindCategoryByName(
    absl::string_view name_folded) {
  return OneCategory("name_folded", std::string(name_folded));
}

absl::StatusOr<std::vector<StoredCategory>> CategoryRecords::ListCategories() {
  auto rows = tx_.Query(
      "SELECT data, version FROM categories WHERE tenant_id = ? ORDER BY name_folded, "
      "category_id",
      {tenant_});
  if (!rows.ok()) return rows.status();
  std::vector<StoredCategory> out;
  for (const auto& row : *rows) {
    StoredCategory c;
    if (!c.category.ParseFromString(row.GetBytes(0))) {
      return absl::InternalError("corrupt category row");
    }
    c.version = row.GetInt(1);
    out.push_back(std::move(c));
  }
  return out;
}

absl::Status CategoryRecords::InsertCategory(const StoredCategory& c) {
  auto n = tx_.Execute(
      "INSERT INTO categories (tenant_id, category_id, display_name, name_folded, "
      "member_discount_bps, version, create_time_micros, update_time_micros, data) VALUES "
      "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
      CategoryParams(c));
  return n.status();
}

absl::Status CategoryRecords::UpdateCategory(const StoredCategory& c) {
  auto n = tx_.Execute(
      "UPDATE categories SET display_name = ?, name_folded = ?, member_discount_bps = ?, "
      "version = ?, create_time_micros = ?, update_time_micros = ?, data = ? WHERE "
      "tenant_id = ? AND category_id = ?",
      db::KeyLast(CategoryParams(c), 2));
  return n.status();
}

absl::Status CategoryRecords::DeleteCategory(absl::string_view id) {
  auto n = tx_.Execute("DELETE FROM price_list_entries WHERE tenant_id = ? AND category_id = ?",
                       {tenant_, std::string(id)});
  if (!n.ok()) return n.status();
  n = tx_.Execute("DELETE FROM categories WHERE tenant_id = ? AND category_id = ?",
                  {tenant_, std::string(id)});
  return n.status();
}

absl::StatusOr<std::vector<StoredCustomer>> CategoryRecords::CustomersInCategory(
    absl::string_view id) {
  auto rows = tx_.Query(
      "SELECT data, version, duplicate_allowed FROM customers WHERE tenant_id = ? AND "
      "category_id = ? AND state IN (?, ?, ?) ORDER BY customer_id",
      MemberParams(id));
  if (!rows.ok()) return rows.status();
  std::vector<StoredCustomer> out;
  for (const auto& row : *rows) {
    auto c = StoredCustomerFromRow(row);
    if (!c.ok()) return c.status();
    out.push_back(*std::move(c));
  }
  return out;
}

absl::StatusOr<int64_t> CategoryRecords::CountCustomersInCategory(absl::string_view id) {
  auto row = tx_.QueryOne(
      "SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND category_id = ? AND state IN "
      "(?, ?, ?)",
      MemberParams(id));
  if (!row.ok()) return row.status();
  return row->GetInt(0);
}

absl::Status CategoryRecords::PutPriceEntry(absl::string_view category_id,
                                            const v1::PriceListEntry& entry) {
  auto n = tx_.Execute(
      "INSERT INTO price_list_entries (tenant_id, category_id, sku, price_minor, "
      "currency_code, update_time_micros) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, "
      "category_id, sku) DO UPDATE SET price_minor = excluded.price_minor, currency_code = "
      "excluded.currency_code, update_time_micros = excluded.update_time_micros",
      {tenant_, std::string(category_id), entry.sku(), entry.price().amount_minor(),
       entry.price().currency_code(), Micros(entry.update_time())});
  return n.status();
}

absl::StatusOr<int64_t> CategoryRecords::DeletePriceEntries(absl::string_view category_id,
                                                            const std::vector<std::string>& skus) {
  int64_t total = 0;
  for (const auto& sku : skus) {
    auto n = tx_.Execute(
        "DELETE FROM price_list_entries WHERE tenant_id = ? AND category_id = ? AND sku = ?",
        {tenant_, std::string(category_id), sku});
    if (!n.ok()) return n.status();
    total += *n;
  }
  return total;
}

absl::StatusOr<std::vector<v1::PriceListEntry>> CategoryRecords::PriceEntries(
    absl::string_view category_id) {
  auto rows = tx_.Query(
      "SELECT sku, price_minor, currency_code, update_time_micros FROM price_list_entries "
      "WHERE tenant_id = ? AND category_id = ? ORDER BY sku",
      {tenant_, std::string(category_id)});
  if (!rows.ok()) return rows.status();
  std::vector<v1::PriceListEntry> out;
  for (const auto& row : *rows) out.push_back(EntryFromRow(row));
  return out;
}

absl::StatusOr<std::optional<v1::PriceListEntry>> CategoryRecords::FindPriceEntry(
    absl::string_view category_id, absl::string_view sku) {
  auto rows = tx_.Query(
      "SELECT sku, price_minor, currency_code, update_time_micros FROM price_list_entries "
      "WHERE tenant_id = ? AND category_id = ? AND sku = ?",
      {tenant_, std::string(category_id), std::string(sku)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<v1::PriceListEntry>();
  return std::optional<v1::PriceListEntry>(EntryFromRow((*rows)[0]));
}

absl::StatusOr<int64_t> CategoryRecords::CountPriceEntries(absl::string_view category_id) {
  auto row = tx_.QueryOne(
      "SELECT COUNT(*) FROM price_list_entries WHERE tenant_id = ? AND category_id = ?",
      {tenant_, std::string(category_id)});
  if (!row.ok()) return row.status();
  return row->GetInt(0);
}

absl::StatusOr<int64_t> CategoryRecords::CountAllPriceEntries() {
  auto row = tx_.QueryOne("SELECT COUNT(*) FROM price_list_entries WHERE tenant_id = ?", {tenant_});
  if (!row.ok()) return row.status();
  return row->GetInt(0);
}

std::vector<db::Value> CategoryRecords::CategoryParams(const StoredCategory& c) {
  return {tenant_,
          c.category.category_id(),
          c.category.display_name(),
          text::FoldForMatch(Sv(c.category.display_name())),
          static_cast<int64_t>(c.category.member_discount_basis_points()),
          c.version,
          Micros(c.category.create_time()),
          Micros(c.category.update_time()),
          db::Bytes{c.category.SerializeAsString()}};
}

absl::StatusOr<std::optional<StoredCategory>> CategoryRecords::OneCategory(
    const char* column, const std::string& value) {
  auto rows = tx_.Query(absl::StrCat("SELECT data, version FROM categories WHERE tenant_id = "
                                     "? AND ",
                                     column, " = ?"),
                        {tenant_, value});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<StoredCategory>();
  StoredCategory c;
  if (!c.category.ParseFromString((*rows)[0].GetBytes(0))) {
    return absl::InternalError("corrupt category row");
  }
  c.version = (*rows)[0].GetInt(1);
  return std::optional<StoredCategory>(std::move(c));
}

v1::PriceListEntry CategoryRecords::EntryFromRow(const db::Row& row) {
  v1::PriceListEntry e;
  e.set_sku(row.GetText(0));
  e.mutable_price()->set_amount_minor(row.GetInt(1));
  e.mutable_price()->set_currency_code(row.GetText(2));
  *e.mutable_update_time() = time::TimestampFromUnixMicros(row.GetInt(3));
  return e;
}

}  // namespace kelola::customer::store
