#include "report-svc/store/ledger_facts.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/time/time.h"
#include "report-svc/store/batch_reads.h"

namespace kelola::report::store {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

// `row_no`: the sale's (a new sale's freshly drawn) row number; an update keeps the stored
// one anyway.
absl::Status SaveSale(db::Transaction& tx, const std::string& tenant, const domain::SaleFact& s,
                      int64_t row_no, int64_t change_no) {
  db::Value due = db::Null();
  if (s.due_date.has_value()) due = static_cast<int64_t>(*s.due_date - kEpochDay);
  return tx.ExecuteDeferred(
      "INSERT INTO report_sales (tenant_id, sale_id, customer_id, store_id, sale_us, due_day, "
      "net_total_minor, outstanding_minor, counted, row_no, change_no) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant_id, sale_id) DO UPDATE SET change_no = excluded.change_no, "
      "customer_id = excluded.customer_id, "
      "store_id = excluded.store_id, sale_us = excluded.sale_us, due_day = excluded.due_day, "
      "net_total_minor = excluded.net_total_minor, "
      "outstanding_minor = excluded.outstanding_minor, counted = excluded.counted",
      {tenant, s.sale_id, s.customer_id, s.store_id, absl::ToUnixMicros(s.sale_time), due,
       s.net_total, s.outstanding, static_cast<int64_t>(s.counted ? 1 : 0), row_no, change_no});
}

absl::Status SaveReceivableChange(db::Transaction& tx, const std::string& tenant,
                                  const domain::SaleFact& sale, int64_t sale_row_no,
                                  absl::Time effective, int64_t delta, int64_t change_no,
                                  RowNumbers& numbers) {
  auto row_no = numbers.Next(tx, "report_receivable_changes", tenant);
  if (!row_no.ok()) return row_no.status();
  return tx.ExecuteDeferred(
      "INSERT INTO report_receivable_changes (tenant_id, sale_id, sale_row_no, effective_us, "
      "delta_minor, row_no, change_no) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {tenant, sale.sale_id, sale_row_no, absl::ToUnixMicros(effective), delta, *row_no,
       change_no});
}

// One statement: a new payment takes the next row number; a known one (a void, a merge)
// keeps its own and the number drawn is left unused (the fact index skips gaps).
absl::Status SavePayment(db::Transaction& tx, const std::string& tenant,
                         const domain::PaymentFact& p, int64_t change_no, RowNumbers& numbers) {
  auto row_no = numbers.Next(tx, "report_payments", tenant);
  if (!row_no.ok()) return row_no.status();
  return tx.ExecuteDeferred(
      "INSERT INTO report_payments (tenant_id, payment_id, customer_id, received_us, counts, "
      "row_no, change_no) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, payment_id) "
      "DO UPDATE SET customer_id = excluded.customer_id, received_us = excluded.received_us, "
      "counts = excluded.counts, change_no = excluded.change_no",
      {tenant, p.payment_id, p.customer_id, absl::ToUnixMicros(p.received_time),
       static_cast<int64_t>(p.counts ? 1 : 0), *row_no, change_no});
}

// A merge hands the source's sales, their outstanding history and payments to the survivor.
absl::Status MoveToSurvivor(db::Transaction& tx, const std::string& tenant,
                            const domain::CardChange& change, int64_t change_no) {
  auto move = [&](const char* table, const char* key, const std::string& id) {
    return tx.ExecuteDeferred(absl::StrCat("UPDATE ", table, " SET customer_id = ?, change_no = ? ",
                                           "WHERE tenant_id = ? AND ", key, " = ?"),
                              {change.customer_id, change_no, tenant, id});
  };
  // The outstanding history names only its sale, so it follows the sale by itself.
  for (const std::string& sale_id : change.moved_sale_ids) {
    if (absl::Status s = move("report_sales", "sale_id", sale_id); !s.ok()) return s;
  }
  for (const std::string& payment_id : change.moved_payment_ids) {
    if (absl::Status s = move("report_payments", "payment_id", payment_id); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> RowNumbers::Next(db::Transaction& tx, const std::string& table,
                                         const std::string& tenant_id) {
  auto [it, added] = next_.try_emplace({table, tenant_id}, 0);
  if (added) {
    auto rows = tx.Query(
        "SELECT next_row_no FROM report_row_counters WHERE tenant_id = ? AND table_name = ?",
        {tenant_id, table});
    if (!rows.ok()) {
      next_.erase(it);
      return rows.status();
    }
    it->second = rows->empty() ? 1 : rows->front().GetInt(0);
  }
  return it->second++;
}

absl::Status SaleOutstanding::Load(db::Transaction& tx, const std::string& tenant_id,
                                   const std::vector<const domain::CardChange*>& changes) {
  std::vector<std::string> ids;
  for (const domain::CardChange* change : changes) {
    for (const ledger::v1::SalePosition& p : change->positions) {
      if (!known_.contains({tenant_id, p.sale_id()})) ids.push_back(p.sale_id());
    }
  }
  auto rows = ReadByKeys(tx, "report_sales", "sale_id", "sale_id, row_no, outstanding_minor",
                         tenant_id, ids);
  if (!rows.ok()) return rows.status();
  for (const db::Row& r : *rows) known_[{tenant_id, r.GetText(0)}] = {r.GetInt(1), r.GetInt(2)};
  return absl::OkStatus();
}

std::optional<SaleOutstanding::Known> SaleOutstanding::Get(const std::string& tenant_id,
                                                           const std::string& sale_id) const {
  auto it = known_.find({tenant_id, sale_id});
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

void SaleOutstanding::Set(const std::string& tenant_id, const std::string& sale_id, Known known) {
  known_[{tenant_id, sale_id}] = known;
}

absl::Status RowNumbers::Save(db::Transaction& tx) {
  for (const auto& [key, next] : next_) {
    absl::Status saved = tx.ExecuteDeferred(
        "INSERT INTO report_row_counters (tenant_id, table_name, next_row_no) VALUES (?, ?, ?) "
        "ON CONFLICT (tenant_id, table_name) DO UPDATE SET next_row_no = excluded.next_row_no",
        {key.second, key.first, next});
    if (!saved.ok()) return saved;
  }
  return absl::OkStatus();
}

db::Migration LedgerFactsMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "ledger facts of the reports";
  // Sales and payments live in their primary key (one b-tree each on SQLite).
  const std::string ddl =
      "DROP TABLE card_open_sales;\n"
      "DELETE FROM summary_cards;\n"
      "DELETE FROM consumer_cursors WHERE consumer = 'report-svc.cards';\n"
      "ALTER TABLE summary_cards ADD COLUMN change_no BIGINT NOT NULL DEFAULT 0;\n"
      "CREATE INDEX summary_cards_by_change ON summary_cards (tenant_id, change_no, customer_id);\n"
      "CREATE TABLE report_sales (tenant_id TEXT NOT NULL, sale_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, store_id TEXT NOT NULL, sale_us BIGINT NOT NULL, "
      "due_day BIGINT, net_total_minor BIGINT NOT NULL, outstanding_minor BIGINT NOT NULL, "
      "counted SMALLINT NOT NULL, row_no BIGINT NOT NULL, change_no BIGINT NOT NULL, "
      "PRIMARY KEY (tenant_id, sale_id))$WITHOUT_ROWID;\n"
      "CREATE INDEX report_sales_by_change ON report_sales (tenant_id, change_no, row_no);\n"
      "CREATE TABLE report_payments (tenant_id TEXT NOT NULL, payment_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, received_us BIGINT NOT NULL, counts SMALLINT NOT NULL, "
      "row_no BIGINT NOT NULL, change_no BIGINT NOT NULL, PRIMARY KEY (tenant_id, payment_id))"
      "$WITHOUT_ROWID;\n"
      "CREATE INDEX report_payments_by_change ON report_payments (tenant_id, change_no, row_no);\n"
      "CREATE TABLE report_receivable_changes (tenant_id TEXT NOT NULL, sale_id TEXT NOT NULL, "
      "sale_row_no BIGINT NOT NULL, effective_us BIGINT NOT NULL, "
      "delta_minor BIGINT NOT NULL, row_no BIGINT NOT NULL, change_no BIGINT NOT NULL);\n"
      "CREATE UNIQUE INDEX report_receivable_changes_by_row ON report_receivable_changes "
      "(tenant_id, row_no);\n"
      "CREATE TABLE report_row_counters (tenant_id TEXT NOT NULL, table_name TEXT NOT NULL, "
      "next_row_no BIGINT NOT NULL, PRIMARY KEY (tenant_id, table_name));\n"
      "CREATE TABLE report_ledger_position (id INTEGER PRIMARY KEY CHECK (id = 1), "
      "last_occur_us BIGINT NOT NULL);";
  m.sqlite = absl::StrReplaceAll(ddl, {{"$WITHOUT_ROWID", " WITHOUT ROWID"}});
  m.postgres = absl::StrReplaceAll(ddl, {{"$WITHOUT_ROWID", ""}});
  return m;
}

absl::Status SaveLedgerFacts(db::Transaction& tx, const std::string& tenant_id,
                             const domain::CardChange& change, int64_t change_no,
                             RowNumbers& numbers, SaleOutstanding& sales) {
  if (absl::Status s = MoveToSurvivor(tx, tenant_id, change, change_no); !s.ok()) return s;
  for (const ledger::v1::SalePosition& position : change.positions) {
    const domain::SaleFact after = domain::SaleFactOf(position);
    const std::optional<SaleOutstanding::Known> before = sales.Get(tenant_id, after.sale_id);
    int64_t row_no = 0;
    if (before.has_value()) {
      row_no = before->row_no;
    } else {
      auto next = numbers.Next(tx, "report_sales", tenant_id);
      if (!next.ok()) return next.status();
      row_no = *next;
    }
    if (absl::Status s = SaveSale(tx, tenant_id, after, row_no, change_no); !s.ok()) return s;
    sales.Set(tenant_id, after.sale_id, {row_no, after.outstanding});
    const int64_t delta = domain::OutstandingDelta(
        before.has_value() ? std::optional<int64_t>(before->outstanding) : std::nullopt, after);
    if (delta == 0) continue;
    if (absl::Status s = SaveReceivableChange(tx, tenant_id, after, row_no, change.effective_time,
                                              delta, change_no, numbers);
        !s.ok()) {
      return s;
    }
  }
  for (const domain::PaymentFact& payment : change.payments) {
    if (absl::Status s = SavePayment(tx, tenant_id, payment, change_no, numbers); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace kelola::report::store
