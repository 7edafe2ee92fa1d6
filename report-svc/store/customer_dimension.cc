#include "report-svc/store/customer_dimension.h"

#include <optional>

#include "libs/customer_stream/customer_reducer.h"

namespace kelola::report::store {
namespace {

absl::StatusOr<customer_stream::CustomerRow> LoadCustomer(db::Transaction& tx,
                                                          const std::string& tenant,
                                                          const std::string& customer_id) {
  auto rows = tx.Query(
      "SELECT version, display_name, phone_e164, category_id, marketing_consent, create_us, "
      "state, merged_into_customer_id FROM report_customers WHERE tenant_id = ? AND "
      "customer_id = ?",
      {tenant, customer_id});
  if (!rows.ok()) return rows.status();
  customer_stream::CustomerRow row;
  row.customer_id = customer_id;
  if (rows->empty()) return row;
  const db::Row& r = rows->front();
  row.version = r.GetInt(0);
  row.display_name = r.GetText(1);
  row.phone_e164 = r.GetText(2);
  row.category_id = r.GetText(3);
  row.marketing_consent = r.GetInt(4) != 0;
  if (auto us = r.GetOptionalInt(5)) row.created = absl::FromUnixMicros(*us);
  row.state = static_cast<customer_stream::CustomerState>(r.GetInt(6));
  row.merged_into_customer_id = r.GetText(7);
  return row;
}

absl::Status SaveCustomer(db::Transaction& tx, const std::string& tenant,
                          const customer_stream::CustomerRow& c, int64_t change_no) {
  db::Value created = db::Null();
  if (c.created.has_value()) created = absl::ToUnixMicros(*c.created);
  return tx.ExecuteDeferred(
      "INSERT INTO report_customers (tenant_id, customer_id, version, display_name, "
      "phone_e164, category_id, marketing_consent, create_us, state, "
      "merged_into_customer_id, change_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant_id, customer_id) DO UPDATE SET version = excluded.version, "
      "change_no = excluded.change_no, "
      "display_name = excluded.display_name, phone_e164 = excluded.phone_e164, "
      "category_id = excluded.category_id, marketing_consent = excluded.marketing_consent, "
      "create_us = excluded.create_us, state = excluded.state, "
      "merged_into_customer_id = excluded.merged_into_customer_id",
      {tenant, c.customer_id, c.version, c.display_name, c.phone_e164, c.category_id,
       static_cast<int64_t>(c.marketing_consent ? 1 : 0), created, static_cast<int64_t>(c.state),
       c.merged_into_customer_id, change_no});
}

}  // namespace

db::Migration CustomerDimensionMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "customer dimension of the reports";
  m.sqlite =
      "CREATE TABLE report_customers (tenant_id TEXT NOT NULL, customer_id TEXT NOT NULL, "
      "version BIGINT NOT NULL, display_name TEXT NOT NULL, phone_e164 TEXT NOT NULL, "
      "category_id TEXT NOT NULL, marketing_consent SMALLINT NOT NULL, create_us BIGINT, "
      "state SMALLINT NOT NULL, merged_into_customer_id TEXT NOT NULL, "
      "change_no BIGINT NOT NULL, PRIMARY KEY (tenant_id, customer_id));\n"
      "CREATE INDEX report_customers_by_change ON report_customers "
      "(tenant_id, change_no, customer_id);\n"
      "CREATE INDEX report_customers_by_creation ON report_customers "
      "(tenant_id, create_us, state, category_id);";
  return m;
}

absl::Status ApplyCustomerEvent(db::Transaction& tx, const type::v1::Event& event) {
  const std::optional<std::string> customer_id = customer_stream::CustomerOf(event);
  if (!customer_id.has_value()) return absl::OkStatus();
  auto row = LoadCustomer(tx, event.tenant_id(), *customer_id);
  if (!row.ok()) return row.status();
  auto next = customer_stream::ReduceCustomer(event, *row);
  if (!next.ok()) return next.status();
  if (*next == *row) return absl::OkStatus();
  return SaveCustomer(tx, event.tenant_id(), *next, event.sequence());
}

}  // namespace kelola::report::store
