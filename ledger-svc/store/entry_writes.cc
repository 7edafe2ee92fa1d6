#include "ledger-svc/store/entry_writes.h"

#include "ledger-svc/store/ledger_entries.h"

namespace kelola::ledger::entries {

absl::Status InsertSale(db::Transaction& tx, const LedgerContext& ctx, const v1::Sale& sale,
                        int64_t total_minor, int64_t sale_time_micros,
                        const std::optional<absl::CivilDay>& due) {
  return tx.ExecuteDeferred(
      "INSERT INTO sales (tenant_id, sale_id, number, customer_id, store_id, "
      "total, sale_time_micros, due_date, record) VALUES (?, ?, ?, ?, ?, ?, ?, "
      "?, ?)",
      {ctx.tenant_id, sale.sale_id(), sale.number(), sale.customer_id(), sale.store_id(),
       total_minor, sale_time_micros, due.has_value() ? Value(DayText(*due)) : db::Null(),
       Bytes{sale.SerializeAsString()}});
}

absl::Status InsertRefund(db::Transaction& tx, const LedgerContext& ctx, const v1::Refund& refund,
                          int64_t amount_minor, int64_t refund_time_micros) {
  LEDGER_ASSIGN_OR_RETURN(seq, NextCounter(tx, ctx.tenant_id, "refund"));
  return tx.ExecuteDeferred(
      "INSERT INTO refunds (tenant_id, refund_id, entry_seq, sale_id, "
      "customer_id, amount, refund_time_micros, record) VALUES (?, ?, ?, ?, ?, "
      "?, ?, ?)",
      {ctx.tenant_id, refund.refund_id(), seq, refund.sale_id(), refund.customer_id(), amount_minor,
       refund_time_micros, Bytes{refund.SerializeAsString()}});
}

namespace {

absl::StatusOr<int64_t> LimitVersion(db::Transaction& tx, const LedgerContext& ctx,
                                     const std::string& subject, const std::string& subject_id) {
  LEDGER_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT version FROM credit_limits WHERE "
                                           "tenant_id = ? AND subject = ? AND "
                                           "subject_id = ?",
                                           {ctx.tenant_id, subject, subject_id}));
  return row.GetInt(0);
}

}  // namespace

absl::StatusOr<int64_t> UpsertCreditLimit(db::Transaction& tx, const LedgerContext& ctx,
                                          const std::string& subject, const std::string& subject_id,
                                          const v1::CreditLimit& limit, int64_t now_micros) {
  LEDGER_RETURN_IF_ERROR(
      tx.ExecuteDeferred("INSERT INTO credit_limits (tenant_id, subject, subject_id, limit_minor, "
                         "update_time_micros, version, deleted, record) VALUES (?, ?, ?, ?, ?, 1, "
                         "0, ?) ON CONFLICT (tenant_id, subject, subject_id) DO UPDATE SET "
                         "limit_minor = excluded.limit_minor, update_time_micros = "
                         "excluded.update_time_micros, version = credit_limits.version + 1, "
                         "deleted = 0, record = excluded.record",
                         {ctx.tenant_id, subject, subject_id, limit.limit().amount_minor(),
                          now_micros, Bytes{limit.SerializeAsString()}}));
  return LimitVersion(tx, ctx, subject, subject_id);
}

absl::StatusOr<std::optional<int64_t>> DeleteCreditLimit(db::Transaction& tx,
                                                         const LedgerContext& ctx,
                                                         const std::string& subject,
                                                         const std::string& subject_id,
                                                         int64_t now_micros) {
  LEDGER_ASSIGN_OR_RETURN(
      changed, tx.Execute("UPDATE credit_limits SET deleted = 1, version = version + 1, "
                          "update_time_micros = ? WHERE tenant_id = ? AND subject = ? AND "
                          "subject_id = ? AND deleted = 0",
                          {now_micros, ctx.tenant_id, subject, subject_id}));
  if (changed == 0) return std::optional<int64_t>();
  LEDGER_ASSIGN_OR_RETURN(version, LimitVersion(tx, ctx, subject, subject_id));
  return std::optional<int64_t>(version);
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> NetAllocationsOfPayment(
    db::Transaction& tx, const LedgerContext& ctx, const std::string& payment_id,
    const std::optional<std::string>& other_than) {
  auto rows = other_than.has_value()
                  ? tx.Query(
                        "SELECT sale_id, SUM(amount), MIN(entry_seq) FROM allocations "
                        "WHERE tenant_id = ? AND payment_id = ? AND sale_id <> ? GROUP "
                        "BY sale_id ORDER BY MIN(entry_seq)",
                        {ctx.tenant_id, payment_id, *other_than})
                  : tx.Query(
                        "SELECT sale_id, SUM(amount), MIN(entry_seq) FROM allocations WHERE "
                        "tenant_id = ? AND payment_id = ? GROUP BY sale_id ORDER BY "
                        "MIN(entry_seq)",
                        {ctx.tenant_id, payment_id});
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Row& row : *rows) {
    if (row.GetInt(1) > 0) out.emplace_back(row.GetText(0), row.GetInt(1));
  }
  return out;
}

}  // namespace kelola::ledger::entries
