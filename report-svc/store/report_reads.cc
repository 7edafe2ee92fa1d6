#include "report-svc/store/report_reads.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace kelola::report::store {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

int64_t Micros(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixMicros(t);
}

// "AND <column> = ?" when `value` is set, with its parameter.
void AndEquals(std::string& sql, std::vector<db::Value>& params, absl::string_view column,
               const std::string& value) {
  if (value.empty()) return;
  absl::StrAppend(&sql, " AND ", column, " = ?");
  params.push_back(value);
}

// Joins the customer dimension when a category filter is set (customers the directory has
// not reported yet have no category).
void AndCategory(std::string& sql, std::vector<db::Value>& params, absl::string_view alias,
                 const SeriesFilter& filter) {
  if (!filter.category_id.has_value()) return;
  absl::StrAppend(&sql,
                  " AND COALESCE((SELECT c.category_id FROM report_customers c WHERE "
                  "c.tenant_id = ",
                  alias, ".tenant_id AND c.customer_id = ", alias, ".customer_id), '') = ?");
  params.push_back(*filter.category_id);
}

absl::StatusOr<std::vector<SlotAmount>> Slots(db::Transaction& tx, const std::string& sql,
                                              const std::vector<db::Value>& params) {
  auto rows = tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<SlotAmount> out;
  out.reserve(rows->size());
  for (const db::Row& r : *rows) out.push_back({r.GetInt(0), r.GetInt(1), r.GetInt(2)});
  return out;
}

}  // namespace

absl::StatusOr<std::vector<domain::CustomerRow>> LoadCustomers(db::Transaction& tx,
                                                               const std::string& tenant_id) {
  auto rows = tx.Query(
      "SELECT customer_id, version, display_name, phone_e164, category_id, marketing_consent, "
      "create_us, state, merged_into_customer_id FROM report_customers WHERE tenant_id = ?",
      {tenant_id});
  if (!rows.ok()) return rows.status();
  std::vector<domain::CustomerRow> out;
  out.reserve(rows->size());
  for (const db::Row& r : *rows) {
    domain::CustomerRow c;
    c.customer_id = r.GetText(0);
    c.version = r.GetInt(1);
    c.display_name = r.GetText(2);
    c.phone_e164 = r.GetText(3);
    c.category_id = r.GetText(4);
    c.marketing_consent = r.GetInt(5) != 0;
    if (auto us = r.GetOptionalInt(6)) c.created = absl::FromUnixMicros(*us);
    c.state = static_cast<domain::CustomerState>(r.GetInt(7));
    c.merged_into_customer_id = r.GetText(8);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<domain::CardRow>> LoadCards(db::Transaction& tx,
                                                       const std::string& tenant_id) {
  auto rows = tx.Query(
      "SELECT customer_id, ledger_version, currency, total_spent_minor, transaction_count, "
      "first_purchase_us, last_purchase_us, balance_minor FROM summary_cards WHERE tenant_id = ?",
      {tenant_id});
  if (!rows.ok()) return rows.status();
  std::vector<domain::CardRow> out;
  out.reserve(rows->size());
  for (const db::Row& r : *rows) {
    domain::CardRow c;
    c.customer_id = r.GetText(0);
    c.ledger_version = r.GetInt(1);
    c.currency = r.GetText(2);
    c.total_spent = r.GetInt(3);
    c.transaction_count = r.GetInt(4);
    if (auto us = r.GetOptionalInt(5)) c.first_purchase = absl::FromUnixMicros(*us);
    if (auto us = r.GetOptionalInt(6)) c.last_purchase = absl::FromUnixMicros(*us);
    c.balance = r.GetInt(7);
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::vector<CustomerSales>> SalesByCustomer(
    db::Transaction& tx, const std::string& tenant_id, absl::Time from, absl::Time to,
    const std::string& store_id, const std::vector<std::string>* customer_ids) {
  std::string sql =
      "SELECT customer_id, SUM(net_total_minor), COUNT(*), MIN(sale_us), MAX(sale_us) FROM "
      "report_sales WHERE tenant_id = ? AND sale_us >= ? AND sale_us < ? AND counted = 1 AND "
      "customer_id <> ''";
  std::vector<db::Value> params = {tenant_id, Micros(from), Micros(to)};
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

absl::StatusOr<std::vector<OpenSaleRow>> LoadOpenSales(db::Transaction& tx,
                                                       const std::string& tenant_id,
                                                       const std::string& store_id) {
  std::string sql =
      "SELECT customer_id, sale_us, due_day, outstanding_minor FROM report_sales WHERE "
      "tenant_id = ? AND outstanding_minor > 0 AND customer_id <> ''";
  std::vector<db::Value> params = {tenant_id};
  AndEquals(sql, params, "store_id", store_id);
  auto rows = tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<OpenSaleRow> out;
  out.reserve(rows->size());
  for (const db::Row& r : *rows) {
    OpenSaleRow sale;
    sale.customer_id = r.GetText(0);
    sale.sale_time = absl::FromUnixMicros(r.GetInt(1));
    if (auto due = r.GetOptionalInt(2)) sale.due_date = kEpochDay + *due;
    sale.outstanding = r.GetInt(3);
    out.push_back(std::move(sale));
  }
  return out;
}

absl::StatusOr<std::map<std::string, absl::Time>> LastPayments(db::Transaction& tx,
                                                               const std::string& tenant_id) {
  auto rows = tx.Query(
      "SELECT customer_id, MAX(received_us) FROM report_payments WHERE tenant_id = ? AND "
      "counts = 1 AND customer_id <> '' GROUP BY customer_id",
      {tenant_id});
  if (!rows.ok()) return rows.status();
  std::map<std::string, absl::Time> out;
  for (const db::Row& r : *rows) out[r.GetText(0)] = absl::FromUnixMicros(r.GetInt(1));
  return out;
}

absl::StatusOr<std::vector<SlotAmount>> SalesBySlot(db::Transaction& tx,
                                                    const std::string& tenant_id, absl::Time from,
                                                    absl::Time to, const SeriesFilter& filter) {
  std::string sql = absl::StrCat(
      "SELECT s.sale_us / ", kSlotMicros,
      ", SUM(s.net_total_minor), COUNT(*) FROM report_sales s WHERE s.tenant_id = ? AND "
      "s.sale_us >= ? AND s.sale_us < ? AND s.counted = 1 AND s.customer_id <> ''");
  std::vector<db::Value> params = {tenant_id, Micros(from), Micros(to)};
  AndEquals(sql, params, "s.store_id", filter.store_id);
  AndCategory(sql, params, "s", filter);
  absl::StrAppend(&sql, " GROUP BY s.sale_us / ", kSlotMicros);
  return Slots(tx, sql, params);
}

absl::StatusOr<std::vector<SlotAmount>> ReceivableChangesBySlot(db::Transaction& tx,
                                                                const std::string& tenant_id,
                                                                absl::Time from, absl::Time to,
                                                                const SeriesFilter& filter) {
  std::string sql = absl::StrCat(
      "SELECT r.effective_us / ", kSlotMicros,
      ", SUM(r.delta_minor), COUNT(*) FROM report_receivable_changes r WHERE r.tenant_id = ? "
      "AND r.effective_us >= ? AND r.effective_us < ?");
  std::vector<db::Value> params = {tenant_id, Micros(from), Micros(to)};
  AndEquals(sql, params, "r.store_id", filter.store_id);
  AndCategory(sql, params, "r", filter);
  absl::StrAppend(&sql, " GROUP BY r.effective_us / ", kSlotMicros);
  return Slots(tx, sql, params);
}

}  // namespace kelola::report::store
