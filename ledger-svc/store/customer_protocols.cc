// The ledger's side of customer-svc's cross-service protocols (ARCHITECTURE.md):
// - delete (C4): SealCustomer refuses a customer with any history and otherwise marks it
//   sealed, in one transaction holding the customer's ledger row lock, so that a sale
//   either commits before the seal (and the seal is refused) or after it (and the sale is
//   refused by LockCustomer). UnsealCustomer undoes a seal when the delete failed.
// - merge (C7): ReassignCustomerHistory moves every entry of the source to the target
//   and marks the source merged, in one transaction holding both customers' rows.
// Each is idempotent by its operation id (RunIdempotent), so customer-svc can retry and
// resume after a crash. See docs/decisions/customer-delete-and-merge.md.

#include <utility>

#include "absl/strings/str_cat.h"
#include "kelola/ledger/v1/events.pb.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"
#include "ledger-svc/store/ledger_writer.h"

namespace kelola::ledger {

using entries::Bytes;
using entries::CheckOpen;
using entries::ComputeStats;
using entries::CustomerRow;
using entries::Err;
using entries::LockCustomerRow;
using entries::M;
using entries::Row;
using entries::RunIdempotent;
using entries::SetTime;
using entries::Transaction;

namespace {

// Stores `stats` (the customer's statistics at their new version) with the seal and
// merge marks.
absl::Status StoreCustomer(Transaction& tx, const LedgerContext& ctx, const std::string& id,
                           const v1::CustomerLedgerStats& stats, const std::string& seal_id,
                           const std::string& merged_into) {
  return tx
      .Execute(
          "UPDATE customer_ledgers SET ledger_version = ?, balance = ?, credit = ?, stats = ?, "
          "seal_id = ?, merged_into = ? WHERE tenant_id = ? AND customer_id = ?",
          {stats.ledger_version(), stats.balance().amount_minor(), stats.credit().amount_minor(),
           Bytes{stats.SerializeAsString()}, seal_id.empty() ? db::Null() : db::Value(seal_id),
           merged_into.empty() ? db::Null() : db::Value(merged_into), ctx.tenant_id, id})
      .status();
}

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

absl::StatusOr<v1::SealCustomerResponse> LedgerStore::SealCustomer(
    const LedgerContext& ctx, const v1::SealCustomerRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::SealCustomerResponse>(
      ctx, "SealCustomer", req.seal_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::SealCustomerResponse& out) -> absl::Status {
        const std::string& id = req.customer_id();
        LEDGER_ASSIGN_OR_RETURN(row, LockCustomerRow(tx, ctx, id));
        if (!row.merged_into.empty() || (!row.seal_id.empty() && row.seal_id != req.seal_id())) {
          return CheckOpen(row, id);
        }
        // A seal withdrawn by UnsealCustomer stays withdrawn, even when this call reaches
        // the ledger after the withdrawal (a retry of a timed-out call).
        LEDGER_ASSIGN_OR_RETURN(
            withdrawn, tx.Query("SELECT 1 FROM idempotency_keys WHERE tenant_id = ? AND scope = "
                                "'UnsealCustomer' AND request_id = ?",
                                {ctx.tenant_id, req.seal_id()}));
        if (!withdrawn.empty()) {
          return Err(absl::StatusCode::kFailedPrecondition, "SEAL_MISMATCH",
                     "this seal_id was withdrawn by UnsealCustomer; use a new one",
                     {{"customer_id", id}, {"seal_id", req.seal_id()}});
        }
        LEDGER_ASSIGN_OR_RETURN(
            counts, tx.QueryOne("SELECT (SELECT COUNT(*) FROM sales WHERE tenant_id = ? AND "
                                "customer_id = ?), (SELECT COUNT(*) FROM payments WHERE "
                                "tenant_id = ? AND customer_id = ?)",
                                {ctx.tenant_id, id, ctx.tenant_id, id}));
        if (counts.GetInt(0) > 0 || counts.GetInt(1) > 0) {
          return Err(absl::StatusCode::kFailedPrecondition, "CUSTOMER_HAS_HISTORY",
                     "the customer has transactions: archive instead",
                     {{"customer_id", id},
                      {"sale_count", absl::StrCat(counts.GetInt(0))},
                      {"payment_count", absl::StrCat(counts.GetInt(1))}});
        }
        LEDGER_ASSIGN_OR_RETURN(stats, ComputeStats(tx, ctx, id, row.version + 1, today));
        stats.set_sealed(true);
        LEDGER_RETURN_IF_ERROR(StoreCustomer(tx, ctx, id, stats, req.seal_id(), ""));
        out.set_customer_id(id);
        out.set_seal_id(req.seal_id());
        SetTime(out.mutable_seal_time(), now);
        out.set_ledger_version(stats.ledger_version());
        v1::CustomerSealed event;
        event.set_customer_id(id);
        event.set_ledger_version(stats.ledger_version());
        *event.mutable_stats() = stats;
        event.set_seal_id(req.seal_id());
        return entries::AppendEvent(writes_.outbox(), tx, ctx, id, stats.ledger_version(), "", 0,
                                    event, req.seal_id());
      });
}

absl::StatusOr<v1::UnsealCustomerResponse> LedgerStore::UnsealCustomer(
    const LedgerContext& ctx, const v1::UnsealCustomerRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::UnsealCustomerResponse>(
      ctx, "UnsealCustomer", req.seal_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::UnsealCustomerResponse& out) -> absl::Status {
        const std::string& id = req.customer_id();
        LEDGER_ASSIGN_OR_RETURN(row, LockCustomerRow(tx, ctx, id));
        if (row.seal_id.empty()) {
          out.set_was_sealed(false);
          out.set_ledger_version(row.version);
          return absl::OkStatus();
        }
        if (row.seal_id != req.seal_id()) {
          return Err(absl::StatusCode::kFailedPrecondition, "SEAL_MISMATCH",
                     "the customer was sealed by another seal_id; nothing changed",
                     {{"customer_id", id}, {"seal_id", row.seal_id}});
        }
        LEDGER_ASSIGN_OR_RETURN(stats, ComputeStats(tx, ctx, id, row.version + 1, today));
        LEDGER_RETURN_IF_ERROR(StoreCustomer(tx, ctx, id, stats, "", row.merged_into));
        // Forget the seal's stored answer, so that a retry of it arriving now runs again
        // and is refused as withdrawn (SealCustomer) instead of replaying "sealed".
        LEDGER_RETURN_IF_ERROR(
            tx.Execute("DELETE FROM idempotency_keys WHERE tenant_id = ? AND scope = "
                       "'SealCustomer' AND request_id = ?",
                       {ctx.tenant_id, req.seal_id()})
                .status());
        out.set_was_sealed(true);
        out.set_ledger_version(stats.ledger_version());
        v1::CustomerUnsealed event;
        event.set_customer_id(id);
        event.set_ledger_version(stats.ledger_version());
        *event.mutable_stats() = stats;
        event.set_seal_id(req.seal_id());
        return entries::AppendEvent(writes_.outbox(), tx, ctx, id, stats.ledger_version(), "", 0,
                                    event, req.seal_id());
      });
}

absl::StatusOr<v1::ReassignCustomerHistoryResponse> LedgerStore::ReassignCustomerHistory(
    const LedgerContext& ctx, const v1::ReassignCustomerHistoryRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::ReassignCustomerHistoryResponse>(
      ctx, "ReassignCustomerHistory", req.merge_operation_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::ReassignCustomerHistoryResponse& out) -> absl::Status {
        const std::string& source = req.source_customer_id();
        const std::string& target = req.target_customer_id();
        // Both rows locked in id order, so that two merges of the same pair in opposite
        // directions cannot deadlock.
        const bool source_first = source < target;
        LEDGER_ASSIGN_OR_RETURN(first, LockCustomerRow(tx, ctx, source_first ? source : target));
        LEDGER_ASSIGN_OR_RETURN(second, LockCustomerRow(tx, ctx, source_first ? target : source));
        const CustomerRow& from = source_first ? first : second;
        const CustomerRow& to = source_first ? second : first;
        if (!from.seal_id.empty()) return CheckOpen(from, source);
        if (!to.seal_id.empty() || !to.merged_into.empty()) return CheckOpen(to, target);
        if (!from.merged_into.empty()) return CheckOpen(from, source);

        LEDGER_ASSIGN_OR_RETURN(sales,
                                MoveEntries<v1::Sale>(tx, ctx, "sales", "sale_id", source, target));
        LEDGER_ASSIGN_OR_RETURN(
            payments, MoveEntries<v1::Payment>(tx, ctx, "payments", "payment_id", source, target));
        LEDGER_ASSIGN_OR_RETURN(
            refunds, tx.Query("SELECT refund_id, record FROM refunds WHERE tenant_id = ? AND "
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
        LEDGER_RETURN_IF_ERROR(
            tx.Execute("UPDATE voids SET customer_id = ? WHERE tenant_id = ? AND customer_id = ?",
                       {target, ctx.tenant_id, source})
                .status());
        // The source's own credit limit goes; the target's stays.
        LEDGER_ASSIGN_OR_RETURN(
            dropped, tx.Execute("UPDATE credit_limits SET deleted = 1, version = version + 1, "
                                "update_time_micros = ? WHERE tenant_id = ? AND subject = "
                                "'customer' AND subject_id = ? AND deleted = 0",
                                {now, ctx.tenant_id, source}));
        if (dropped > 0) {
          LEDGER_ASSIGN_OR_RETURN(limit_row,
                                  tx.QueryOne("SELECT version FROM credit_limits WHERE tenant_id "
                                              "= ? AND subject = 'customer' AND subject_id = ?",
                                              {ctx.tenant_id, source}));
          LEDGER_RETURN_IF_ERROR(entries::AppendLimitEvent(writes_.outbox(), tx, ctx, "customer",
                                                           source, limit_row.GetInt(0), nullptr,
                                                           req.merge_operation_id()));
        }

        LEDGER_ASSIGN_OR_RETURN(source_stats,
                                ComputeStats(tx, ctx, source, from.version + 1, today));
        source_stats.set_merged_into_customer_id(target);
        LEDGER_RETURN_IF_ERROR(StoreCustomer(tx, ctx, source, source_stats, "", target));
        LEDGER_ASSIGN_OR_RETURN(target_stats, entries::BumpCustomer(tx, ctx, target, to, today));

        out.set_moved_sale_count(static_cast<int64_t>(sales.size()));
        out.set_moved_payment_count(static_cast<int64_t>(payments.size()));
        *out.mutable_moved_balance() = M(from.balance, ctx.currency);
        *out.mutable_moved_credit() = M(from.credit, ctx.currency);
        out.set_source_ledger_version(source_stats.ledger_version());
        out.set_target_ledger_version(target_stats.ledger_version());
        *out.mutable_target_stats() = target_stats;
        SetTime(out.mutable_reassign_time(), now);

        v1::CustomerReassigned event;
        event.set_customer_id(target);
        event.set_ledger_version(target_stats.ledger_version());
        *event.mutable_stats() = target_stats;
        event.set_source_customer_id(source);
        event.set_source_ledger_version(source_stats.ledger_version());
        *event.mutable_source_stats() = source_stats;
        event.set_merge_operation_id(req.merge_operation_id());
        for (auto& id : sales) event.add_moved_sale_ids(std::move(id));
        for (auto& id : payments) event.add_moved_payment_ids(std::move(id));
        return entries::AppendEvent(writes_.outbox(), tx, ctx, target,
                                    target_stats.ledger_version(), "", 0, event,
                                    req.merge_operation_id());
      });
}

}  // namespace kelola::ledger
