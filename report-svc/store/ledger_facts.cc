#include "report-svc/store/ledger_facts.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"

namespace kelola::report::store {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

absl::StatusOr<std::optional<domain::SaleFact>> LoadSale(db::Transaction& tx,
                                                         const std::string& tenant,
                                                         const std::string& sale_id) {
  auto rows = tx.Query(
      "SELECT outstanding_minor FROM report_sales WHERE tenant_id = ? AND sale_id = ?",
      {tenant, sale_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<domain::SaleFact>();
  domain::SaleFact fact;
  fact.sale_id = sale_id;
  fact.outstanding = rows->front().GetInt(0);
  return std::optional<domain::SaleFact>(fact);
}

absl::Status SaveSale(db::Transaction& tx, const std::string& tenant, const domain::SaleFact& s) {
  db::Value due = db::Null();
  if (s.due_date.has_value()) due = static_cast<int64_t>(*s.due_date - kEpochDay);
  return tx
      .Execute(
          "INSERT INTO report_sales (tenant_id, sale_id, customer_id, store_id, sale_us, due_day, "
          "net_total_minor, outstanding_minor, counted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (tenant_id, sale_id) DO UPDATE SET customer_id = excluded.customer_id, "
          "store_id = excluded.store_id, sale_us = excluded.sale_us, due_day = excluded.due_day, "
          "net_total_minor = excluded.net_total_minor, "
          "outstanding_minor = excluded.outstanding_minor, counted = excluded.counted",
          {tenant, s.sale_id, s.customer_id, s.store_id, absl::ToUnixMicros(s.sale_time), due,
           s.net_total, s.outstanding, static_cast<int64_t>(s.counted ? 1 : 0)})
      .status();
}

absl::Status SaveReceivableChange(db::Transaction& tx, const std::string& tenant,
                                  const domain::SaleFact& sale, absl::Time effective,
                                  int64_t delta) {
  return tx
      .Execute(
          "INSERT INTO report_receivable_changes (tenant_id, sale_id, customer_id, store_id, "
          "effective_us, delta_minor) VALUES (?, ?, ?, ?, ?, ?)",
          {tenant, sale.sale_id, sale.customer_id, sale.store_id,
           absl::ToUnixMicros(effective), delta})
      .status();
}

absl::Status SavePayment(db::Transaction& tx, const std::string& tenant,
                         const domain::PaymentFact& p) {
  return tx
      .Execute(
          "INSERT INTO report_payments (tenant_id, payment_id, customer_id, received_us, counts) "
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, payment_id) DO UPDATE SET "
          "customer_id = excluded.customer_id, received_us = excluded.received_us, "
          "counts = excluded.counts",
          {tenant, p.payment_id, p.customer_id, absl::ToUnixMicros(p.received_time),
           static_cast<int64_t>(p.counts ? 1 : 0)})
      .status();
}

// A merge hands the source's sales, their outstanding history and payments to the survivor.
absl::Status MoveToSurvivor(db::Transaction& tx, const std::string& tenant,
                            const domain::CardChange& change) {
  for (const std::string& sale_id : change.moved_sale_ids) {
    for (const char* table : {"report_sales", "report_receivable_changes"}) {
      auto moved = tx.Execute(
          absl::StrCat("UPDATE ", table, " SET customer_id = ? WHERE tenant_id = ? AND sale_id = ?"),
          {change.customer_id, tenant, sale_id});
      if (!moved.ok()) return moved.status();
    }
  }
  for (const std::string& payment_id : change.moved_payment_ids) {
    auto moved = tx.Execute(
        "UPDATE report_payments SET customer_id = ? WHERE tenant_id = ? AND payment_id = ?",
        {change.customer_id, tenant, payment_id});
    if (!moved.ok()) return moved.status();
  }
  return absl::OkStatus();
}

}  // namespace

db::Migration LedgerFactsMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "ledger facts of the reports";
  m.sqlite =
      "DROP TABLE card_open_sales;\n"
      "DELETE FROM summary_cards;\n"
      "DELETE FROM consumer_cursors WHERE consumer = 'report-svc.cards';\n"
      "CREATE TABLE report_sales (tenant_id TEXT NOT NULL, sale_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, store_id TEXT NOT NULL, sale_us BIGINT NOT NULL, "
      "due_day BIGINT, net_total_minor BIGINT NOT NULL, outstanding_minor BIGINT NOT NULL, "
      "counted SMALLINT NOT NULL, PRIMARY KEY (tenant_id, sale_id));\n"
      "CREATE INDEX report_sales_by_customer ON report_sales (tenant_id, customer_id, sale_us);\n"
      "CREATE INDEX report_sales_by_time ON report_sales (tenant_id, sale_us, customer_id, "
      "net_total_minor, store_id, counted);\n"
      "CREATE INDEX report_sales_open ON report_sales (tenant_id, customer_id) "
      "WHERE outstanding_minor > 0;\n"
      "CREATE TABLE report_payments (tenant_id TEXT NOT NULL, payment_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, received_us BIGINT NOT NULL, counts SMALLINT NOT NULL, "
      "PRIMARY KEY (tenant_id, payment_id));\n"
      "CREATE INDEX report_payments_by_customer ON report_payments (tenant_id, customer_id);\n"
      "CREATE TABLE report_receivable_changes (tenant_id TEXT NOT NULL, sale_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, store_id TEXT NOT NULL, effective_us BIGINT NOT NULL, "
      "delta_minor BIGINT NOT NULL);\n"
      "CREATE INDEX report_receivable_changes_by_time ON report_receivable_changes "
      "(tenant_id, effective_us, delta_minor, store_id, customer_id);\n"
      "CREATE TABLE report_ledger_position (id INTEGER PRIMARY KEY CHECK (id = 1), "
      "last_occur_us BIGINT NOT NULL);\n"
      "CREATE INDEX report_receivable_changes_by_sale ON report_receivable_changes "
      "(tenant_id, sale_id);";
  return m;
}

absl::Status SaveLedgerFacts(db::Transaction& tx, const std::string& tenant_id,
                             const domain::CardChange& change) {
  if (absl::Status s = MoveToSurvivor(tx, tenant_id, change); !s.ok()) return s;
  for (const ledger::v1::SalePosition& position : change.positions) {
    const domain::SaleFact after = domain::SaleFactOf(position);
    auto before = LoadSale(tx, tenant_id, after.sale_id);
    if (!before.ok()) return before.status();
    if (absl::Status s = SaveSale(tx, tenant_id, after); !s.ok()) return s;
    const int64_t delta = domain::OutstandingDelta(*before, after);
    if (delta == 0) continue;
    if (absl::Status s = SaveReceivableChange(tx, tenant_id, after, change.effective_time, delta);
        !s.ok()) {
      return s;
    }
  }
  for (const domain::PaymentFact& payment : change.payments) {
    if (absl::Status s = SavePayment(tx, tenant_id, payment); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace kelola::report::store
