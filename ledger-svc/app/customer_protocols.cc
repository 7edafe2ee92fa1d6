#include "ledger-svc/app/customer_protocols.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kelola/ledger/v1/events.pb.h"
#include "ledger-svc/store/customer_protocols.h"

namespace kelola::ledger {

using entries::Err;

absl::StatusOr<v1::SealCustomerResponse> CustomerProtocols::Seal(const LedgerContext& ctx,
                                                                 const SealCommand& cmd,
                                                                 const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::SealCustomerResponse>(
      ctx, "SealCustomer", cmd.seal_id, print, now,
      [&](db::Transaction& tx, v1::SealCustomerResponse& out) -> absl::Status {
        const std::string& id = cmd.customer_id;
        LEDGER_ASSIGN_OR_RETURN(row, entries::LockCustomerRow(tx, ctx, id));
        if (!row.merged_into.empty() || (!row.seal_id.empty() && row.seal_id != cmd.seal_id)) {
          return entries::CheckOpen(row, id);
        }
        // A seal withdrawn by UnsealCustomer stays withdrawn, even when this call reaches
        // the ledger after the withdrawal (a retry of a timed-out call).
        LEDGER_ASSIGN_OR_RETURN(withdrawn, entries::SealWithdrawn(tx, ctx, cmd.seal_id));
        if (withdrawn) {
          return Err(absl::StatusCode::kFailedPrecondition, "SEAL_MISMATCH",
                     "this seal_id was withdrawn by UnsealCustomer; use a new one",
                     {{"customer_id", id}, {"seal_id", cmd.seal_id}});
        }
        LEDGER_ASSIGN_OR_RETURN(history, entries::CountHistory(tx, ctx, id));
        if (history.sales > 0 || history.payments > 0) {
          return Err(absl::StatusCode::kFailedPrecondition, "CUSTOMER_HAS_HISTORY",
                     "the customer has transactions: archive instead",
                     {{"customer_id", id},
                      {"sale_count", absl::StrCat(history.sales)},
                      {"payment_count", absl::StrCat(history.payments)}});
        }
        LEDGER_ASSIGN_OR_RETURN(stats, entries::ComputeStats(tx, ctx, id, row.version + 1, today));
        stats.set_sealed(true);
        LEDGER_RETURN_IF_ERROR(entries::StoreCustomer(tx, ctx, id, stats, cmd.seal_id, ""));
        out.set_customer_id(id);
        out.set_seal_id(cmd.seal_id);
        entries::SetTime(out.mutable_seal_time(), now);
        out.set_ledger_version(stats.ledger_version());
        v1::CustomerSealed event;
        event.set_customer_id(id);
        event.set_ledger_version(stats.ledger_version());
        *event.mutable_stats() = stats;
        event.set_seal_id(cmd.seal_id);
        return entries::AppendEvent(writer_.outbox(), tx, ctx, id, stats.ledger_version(), "", 0,
                                    event, cmd.seal_id);
      });
}

absl::StatusOr<v1::UnsealCustomerResponse> CustomerProtocols::Unseal(
    const LedgerContext& ctx, const SealCommand& cmd, const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::UnsealCustomerResponse>(
      ctx, "UnsealCustomer", cmd.seal_id, print, now,
      [&](db::Transaction& tx, v1::UnsealCustomerResponse& out) -> absl::Status {
        const std::string& id = cmd.customer_id;
        LEDGER_ASSIGN_OR_RETURN(row, entries::LockCustomerRow(tx, ctx, id));
        if (row.seal_id.empty()) {
          out.set_was_sealed(false);
          out.set_ledger_version(row.version);
          return absl::OkStatus();
        }
        if (row.seal_id != cmd.seal_id) {
          return Err(absl::StatusCode::kFailedPrecondition, "SEAL_MISMATCH",
                     "the customer was sealed by another seal_id; nothing changed",
                     {{"customer_id", id}, {"seal_id", row.seal_id}});
        }
        LEDGER_ASSIGN_OR_RETURN(stats, entries::ComputeStats(tx, ctx, id, row.version + 1, today));
        LEDGER_RETURN_IF_ERROR(entries::StoreCustomer(tx, ctx, id, stats, "", row.merged_into));
        // Forget the seal's stored answer, so that a retry of it arriving now runs again
        // and is refused as withdrawn (SealCustomer) instead of replaying "sealed".
        LEDGER_RETURN_IF_ERROR(entries::ForgetSeal(tx, ctx, cmd.seal_id));
        out.set_was_sealed(true);
        out.set_ledger_version(stats.ledger_version());
        v1::CustomerUnsealed event;
        event.set_customer_id(id);
        event.set_ledger_version(stats.ledger_version());
        *event.mutable_stats() = stats;
        event.set_seal_id(cmd.seal_id);
        return entries::AppendEvent(writer_.outbox(), tx, ctx, id, stats.ledger_version(), "", 0,
                                    event, cmd.seal_id);
      });
}

// ---------------------------------------------------------------------------------
// Reassign

// One run of the merge: what it did so far.
struct CustomerProtocols::Merge {
  Merge(db::Transaction& tx, const LedgerContext& ctx, const ReassignCommand& cmd,
        absl::CivilDay today, int64_t now_micros)
      : tx(tx), ctx(ctx), cmd(cmd), today(today), now_micros(now_micros) {}

  db::Transaction& tx;
  const LedgerContext& ctx;
  const ReassignCommand& cmd;
  absl::CivilDay today;
  int64_t now_micros = 0;
  entries::CustomerRow from;
  entries::CustomerRow to;
  std::vector<std::string> sales;
  std::vector<std::string> payments;
};

absl::StatusOr<v1::ReassignCustomerHistoryResponse> CustomerProtocols::Reassign(
    const LedgerContext& ctx, const ReassignCommand& cmd, const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), ctx.time_zone);
  return writer_.Run<v1::ReassignCustomerHistoryResponse>(
      ctx, "ReassignCustomerHistory", cmd.merge_operation_id, print, now,
      [&](db::Transaction& tx, v1::ReassignCustomerHistoryResponse& out) -> absl::Status {
        Merge m(tx, ctx, cmd, today, now);
        LEDGER_RETURN_IF_ERROR(LockBoth(m));
        LEDGER_RETURN_IF_ERROR(Move(m, out));
        return Respond(m, out);
      });
}

// Both rows locked in id order; neither sealed, the target not merged, the source not
// merged.
absl::Status CustomerProtocols::LockBoth(Merge& m) const {
  const std::string& source = m.cmd.source_customer_id;
  const std::string& target = m.cmd.target_customer_id;
  const bool source_first = source < target;
  LEDGER_ASSIGN_OR_RETURN(first,
                          entries::LockCustomerRow(m.tx, m.ctx, source_first ? source : target));
  LEDGER_ASSIGN_OR_RETURN(second,
                          entries::LockCustomerRow(m.tx, m.ctx, source_first ? target : source));
  m.from = source_first ? first : second;
  m.to = source_first ? second : first;
  if (!m.from.seal_id.empty()) return entries::CheckOpen(m.from, source);
  if (!m.to.seal_id.empty() || !m.to.merged_into.empty()) return entries::CheckOpen(m.to, target);
  if (!m.from.merged_into.empty()) return entries::CheckOpen(m.from, source);
  return absl::OkStatus();
}

// Every entry of the source to the target; the source's own credit limit goes (the
// target's stays).
absl::Status CustomerProtocols::Move(Merge& m, v1::ReassignCustomerHistoryResponse& out) const {
  const std::string& source = m.cmd.source_customer_id;
  const std::string& target = m.cmd.target_customer_id;
  LEDGER_ASSIGN_OR_RETURN(sales, entries::MoveSales(m.tx, m.ctx, source, target));
  LEDGER_ASSIGN_OR_RETURN(payments, entries::MovePayments(m.tx, m.ctx, source, target));
  m.sales = std::move(sales);
  m.payments = std::move(payments);
  LEDGER_RETURN_IF_ERROR(entries::MoveRefundsAndVoids(m.tx, m.ctx, source, target));
  LEDGER_ASSIGN_OR_RETURN(dropped, entries::DropCustomerLimit(m.tx, m.ctx, source, m.now_micros));
  if (dropped.has_value()) {
    LEDGER_RETURN_IF_ERROR(entries::AppendLimitEvent(writer_.outbox(), m.tx, m.ctx, "customer",
                                                     source, *dropped, nullptr,
                                                     m.cmd.merge_operation_id));
  }
  out.set_moved_sale_count(static_cast<int64_t>(m.sales.size()));
  out.set_moved_payment_count(static_cast<int64_t>(m.payments.size()));
  *out.mutable_moved_balance() = entries::M(m.from.balance, m.ctx.currency);
  *out.mutable_moved_credit() = entries::M(m.from.credit, m.ctx.currency);
  return absl::OkStatus();
}

// Both customers' statistics (the source marked merged), and the event.
absl::Status CustomerProtocols::Respond(Merge& m, v1::ReassignCustomerHistoryResponse& out) const {
  const std::string& source = m.cmd.source_customer_id;
  const std::string& target = m.cmd.target_customer_id;
  LEDGER_ASSIGN_OR_RETURN(source_stats,
                          entries::ComputeStats(m.tx, m.ctx, source, m.from.version + 1, m.today));
  source_stats.set_merged_into_customer_id(target);
  LEDGER_RETURN_IF_ERROR(entries::StoreCustomer(m.tx, m.ctx, source, source_stats, "", target));
  LEDGER_ASSIGN_OR_RETURN(target_stats, entries::BumpCustomer(m.tx, m.ctx, target, m.to, m.today));
  out.set_source_ledger_version(source_stats.ledger_version());
  out.set_target_ledger_version(target_stats.ledger_version());
  *out.mutable_target_stats() = target_stats;
  entries::SetTime(out.mutable_reassign_time(), m.now_micros);
  v1::CustomerReassigned event;
  event.set_customer_id(target);
  event.set_ledger_version(target_stats.ledger_version());
  *event.mutable_stats() = target_stats;
  event.set_source_customer_id(source);
  event.set_source_ledger_version(source_stats.ledger_version());
  *event.mutable_source_stats() = source_stats;
  event.set_merge_operation_id(m.cmd.merge_operation_id);
  for (auto& id : m.sales) event.add_moved_sale_ids(std::move(id));
  for (auto& id : m.payments) event.add_moved_payment_ids(std::move(id));
  return entries::AppendEvent(writer_.outbox(), m.tx, m.ctx, target, target_stats.ledger_version(),
                              "", 0, event, m.cmd.merge_operation_id);
}

}  // namespace kelola::ledger
