#include "ledger-svc/store/customer_protocols.h"

#include "absl/strings/str_cat.h"
#include "ledger-svc/store/ledger_entries.h"

namespace kelola::ledger::entries {

absl::Status StoreCustomer(db::Transaction& tx, const LedgerContext& ctx, const std::string& id,
                           const v1::CustomerLedgerStats& stats, const std::string& seal_id,
                           const std::string& merged_into) {
  return tx
      .Execute(
          "UPDATE customer_ledgers SET ledger_version = ?, balance = ?, credit = ?, stats = ?, "
          "seal_id = ?, merged_into = ?, settled_before_time = NULL, settled_before_number = "
          "NULL, settled_before_version = NULL WHERE tenant_id = ? AND customer_id = ?",
          {stats.ledger_version(), stats.balance().amount_minor(), stats.credit().amount_minor(),
           Bytes{stats.SerializeAsString()}, seal_id.empty() ? db::Null() : db::Value(seal_id),
           merged_into.empty() ? db::Null() : db::Value(merged_into), ctx.tenant_id, id})
      .status();
}

absl::StatusOr<bool> SealWithdrawn(db::Transaction& tx, const LedgerContext& ctx,
                                   const std::string& seal_id) {
  LEDGER_ASSIGN_OR_RETURN(withdrawn,
                          tx.Query("SELECT 1 FROM idempotency_keys WHERE tenant_id = ? AND scope = "
                                   "'UnsealCustomer' AND request_id = ?",
                                   {ctx.tenant_id, seal_id}));
  return !withdrawn.empty();
}

absl::Status ForgetSeal(db::Transaction& tx, const LedgerContext& ctx, const std::string& seal_id) {
  return tx
      .Execute(
          "DELETE FROM idempotency_keys WHERE tenant_id = ? AND scope = "
          "'SealCustomer' AND request_id = ?",
          {ctx.tenant_id, seal_id})
      .status();
}

absl::StatusOr<HistoryCount> CountHistory(db::Transaction& tx, const LedgerContext& ctx,
                                          const std::string& customer_id) {
  LEDGER_ASSIGN_OR_RETURN(counts,
                          tx.QueryOne("SELECT (SELECT COUNT(*) FROM sales WHERE tenant_id = ? AND "
                                      "customer_id = ?), (SELECT COUNT(*) FROM payments WHERE "
                                      "tenant_id = ? AND customer_id = ?)",
                                      {ctx.tenant_id, customer_id, ctx.tenant_id, customer_id}));
  return HistoryCount{counts.GetInt(0), counts.GetInt(1)};
}

namespace {

// Rewrites the owner of every entry record of `table` (sales or payments) that belongs to
// `source`; returns the moved ids in entry order.
template <typename Record>
absl::StatusOr<std::vector<std::string>> MoveEntries(Transaction& tx, const LedgerContext& ctx,
                                                     const std::string& table,
                                                     const std::string& id_column,
                                                     const std::string& source,
                                                     const std::string& target) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query(absl::StrCat("SELECT ", id_column, ", record FROM ", table,
                                  " WHERE tenant_id = ? AND customer_id = ? ORDER BY number"),
                     {ctx.tenant_id, source}));
  std::vector<std::string> moved;
  for (const Row& row : rows) {
    Record record;
    if (!record.ParseFromString(row.GetBytes(1))) {
      return absl::InternalError(absl::StrCat("unreadable ", table, " record"));
    }
    record.set_customer_id(target);
    // The first owner stays named through chains of merges (A -> B -> C names A).
    if (record.reassigned_from_customer_id().empty()) {
      record.set_reassigned_from_customer_id(source);
    }
    LEDGER_RETURN_IF_ERROR(
        tx.Execute(absl::StrCat("UPDATE ", table,
                                " SET customer_id = ?, reassigned_from = ?, record = ? WHERE "
                                "tenant_id = ? AND ",
                                id_column, " = ?"),
                   {target, record.reassigned_from_customer_id(), Bytes{record.SerializeAsString()},
                    ctx.tenant_id, row.GetText(0)})
            .status());
    moved.push_back(row.GetText(0));
  }
  return moved;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> MoveSales(db::Transaction& tx, const LedgerContext& ctx,
                                                   const std::string& source,
                                                   const std::string& target) {
  return MoveEntries<v1::Sale>(tx, ctx, "sales", "sale_id", source, target);
}

absl::StatusOr<std::vector<std::string>> MovePayments(db::Transaction& tx, const LedgerContext& ctx,
                                                      const std::string& source,
                                                      const std::string& target) {
  return MoveEntries<v1::Payment>(tx, ctx, "payments", "payment_id", source, target);
}

absl::Status MoveRefundsAndVoids(db::Transaction& tx, const LedgerContext& ctx,
                                 const std::string& source, const std::string& target) {
  LEDGER_ASSIGN_OR_RETURN(refunds,
                          tx.Query("SELECT refund_id, record FROM refunds WHERE tenant_id = ? AND "
                                   "customer_id = ?",
                                   {ctx.tenant_id, source}));
  for (const Row& row : refunds) {
    v1::Refund refund;
    if (!refund.ParseFromString(row.GetBytes(1))) {
      return absl::InternalError("unreadable refund record");
    }
    refund.set_customer_id(target);
    LEDGER_RETURN_IF_ERROR(
        tx.Execute("UPDATE refunds SET customer_id = ?, record = ? WHERE tenant_id = ? AND "
                   "refund_id = ?",
                   {target, Bytes{refund.SerializeAsString()}, ctx.tenant_id, row.GetText(0)})
            .status());
  }
  return tx
      .Execute("UPDATE voids SET customer_id = ? WHERE tenant_id = ? AND customer_id = ?",
               {target, ctx.tenant_id, source})
      .status();
}

absl::StatusOr<std::optional<int64_t>> DropCustomerLimit(db::Transaction& tx,
                                                         const LedgerContext& ctx,
                                                         const std::string& customer_id,
                                                         int64_t now_micros) {
  LEDGER_ASSIGN_OR_RETURN(dropped,
                          tx.Execute("UPDATE credit_limits SET deleted = 1, version = version + 1, "
                                     "update_time_micros = ? WHERE tenant_id = ? AND subject = "
                                     "'customer' AND subject_id = ? AND deleted = 0",
                                     {now_micros, ctx.tenant_id, customer_id}));
  if (dropped == 0) return std::optional<int64_t>();
  LEDGER_ASSIGN_OR_RETURN(limit_row,
                          tx.QueryOne("SELECT version FROM credit_limits WHERE tenant_id "
                                      "= ? AND subject = 'customer' AND subject_id = ?",
                                      {ctx.tenant_id, customer_id}));
  return std::optional<int64_t>(limit_row.GetInt(0));
}

}  // namespace kelola::ledger::entries
