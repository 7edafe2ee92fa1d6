// The reads of LedgerStore other than the lists (list_reads.cc): single entries,
// balances, statistics, tenant settings and entry stores. Each runs in one read-only
// transaction.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"

namespace kelola::ledger {

using entries::BuildPayment;
using entries::BuildSale;
using entries::ComputeStats;
using entries::GetPaymentFacts;
using entries::GetSaleFacts;
using entries::Row;
using entries::ToDate;
using entries::Transaction;
using entries::Value;

// ---------------------------------------------------------------------------------
// Reads

absl::StatusOr<v1::Sale> LedgerStore::GetSale(const LedgerContext& ctx, const std::string& sale_id,
                                              v1::SaleView view) {
  v1::Sale out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(facts, GetSaleFacts(tx, ctx, sale_id));
        LEDGER_ASSIGN_OR_RETURN(sale, BuildSale(tx, ctx, facts, view, today));
        out = std::move(sale);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::Payment> LedgerStore::GetPayment(const LedgerContext& ctx,
                                                    const std::string& payment_id) {
  v1::Payment out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(facts, GetPaymentFacts(tx, ctx, payment_id));
        LEDGER_ASSIGN_OR_RETURN(p, BuildPayment(tx, ctx, facts));
        out = std::move(p);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<v1::CustomerBalance>> LedgerStore::GetBalances(
    const LedgerContext& ctx, const std::vector<std::string>& customer_ids) {
  std::vector<v1::CustomerBalance> out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.clear();
        std::map<std::string, v1::CustomerBalance> done;
        for (const std::string& id : customer_ids) {
          auto it = done.find(id);
          if (it == done.end()) {
            LEDGER_ASSIGN_OR_RETURN(row, entries::ReadCustomerRow(tx, ctx, id));
            const int64_t version = row.version;
            LEDGER_ASSIGN_OR_RETURN(st, ComputeStats(tx, ctx, id, version, today));
            v1::CustomerBalance b;
            b.set_customer_id(id);
            *b.mutable_balance() = st.balance();
            *b.mutable_credit() = st.credit();
            *b.mutable_overdue_amount() = st.overdue_amount();
            b.set_days_overdue(st.days_overdue());
            b.set_open_sale_count(st.open_sale_count());
            b.set_ledger_version(version);
            *b.mutable_as_of_date() = ToDate(today);
            b.set_merged_into_customer_id(row.merged_into);
            b.set_sealed(!row.seal_id.empty());
            it = done.emplace(id, std::move(b)).first;
          }
          out.push_back(it->second);
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::CustomerLedgerStats> LedgerStore::GetStats(const LedgerContext& ctx,
                                                              const std::string& customer_id) {
  v1::CustomerLedgerStats out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(row, entries::ReadCustomerRow(tx, ctx, customer_id));
        LEDGER_ASSIGN_OR_RETURN(st, ComputeStats(tx, ctx, customer_id, row.version, today));
        st.set_merged_into_customer_id(row.merged_into);
        st.set_sealed(!row.seal_id.empty());
        out = std::move(st);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::optional<StoredTenantSettings>> LedgerStore::FindTenantSettings(
    const std::string& tenant_id) {
  std::optional<StoredTenantSettings> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.reset();
        LEDGER_ASSIGN_OR_RETURN(rows,
                                tx.Query("SELECT currency_code, time_zone, ledger_currency FROM "
                                         "tenant_settings WHERE tenant_id = ?",
                                         {tenant_id}));
        if (!rows.empty()) {
          out = StoredTenantSettings{rows[0].GetText(0), rows[0].GetText(1),
                                     rows[0].IsNull(2) ? "" : rows[0].GetText(2)};
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::Status LedgerStore::SaveTenantSettings(const std::string& tenant_id,
                                             const StoredTenantSettings& settings) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return db_.InTransaction([&](Transaction& tx) -> absl::Status {
    return tx
        .Execute(
            "INSERT INTO tenant_settings (tenant_id, currency_code, time_zone, "
            "update_time_micros) VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET "
            "currency_code = excluded.currency_code, time_zone = excluded.time_zone, "
            "update_time_micros = excluded.update_time_micros",
            {tenant_id, settings.currency_code, settings.time_zone, now})
        .status();
  });
}

absl::StatusOr<std::string> LedgerStore::PinLedgerCurrency(const std::string& tenant_id,
                                                           const StoredTenantSettings& settings,
                                                           bool replace) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  std::string pinned;
  absl::Status status = db_.InTransaction([&](Transaction& tx) -> absl::Status {
    LEDGER_RETURN_IF_ERROR(
        tx.Execute(
              absl::StrCat("INSERT INTO tenant_settings (tenant_id, currency_code, "
                           "time_zone, update_time_micros, ledger_currency) VALUES (?, ?, "
                           "?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET ledger_currency = ",
                           replace ? "excluded.ledger_currency"
                                   : "COALESCE(tenant_settings.ledger_currency, "
                                     "excluded.ledger_currency)"),
              {tenant_id, settings.currency_code, settings.time_zone, now, settings.currency_code})
            .status());
    LEDGER_ASSIGN_OR_RETURN(
        rows,
        tx.Query("SELECT ledger_currency FROM tenant_settings WHERE tenant_id = ?", {tenant_id}));
    if (rows.empty() || rows[0].IsNull(0)) return absl::InternalError("currency not pinned");
    pinned = rows[0].GetText(0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return pinned;
}

absl::StatusOr<std::map<std::string, std::string>> LedgerStore::EntryStores(
    const LedgerContext& ctx, absl::string_view entity, const std::vector<std::string>& ids) {
  std::map<std::string, std::string> out;
  if (ids.empty()) return out;
  const bool sales = entity == "sale";
  std::string sql = absl::StrCat("SELECT ", sales ? "sale_id" : "payment_id", ", store_id FROM ",
                                 sales ? "sales" : "payments", " WHERE tenant_id = ? AND ",
                                 sales ? "sale_id" : "payment_id", " IN (");
  std::vector<Value> params = {ctx.tenant_id};
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? "?" : ", ?");
    params.push_back(ids[i]);
  }
  sql += ")";
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        for (const Row& row : rows) out[row.GetText(0)] = row.GetText(1);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<bool> LedgerStore::HasLedgerHistory(const std::string& tenant_id) {
  bool found = false;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(rows,
                                tx.Query("SELECT 1 FROM sales WHERE tenant_id = ? UNION ALL "
                                         "SELECT 1 FROM payments WHERE tenant_id = ? UNION ALL "
                                         "SELECT 1 FROM credit_limits WHERE tenant_id = ? LIMIT 1",
                                         {tenant_id, tenant_id, tenant_id}));
        found = !rows.empty();
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return found;
}

}  // namespace kelola::ledger
