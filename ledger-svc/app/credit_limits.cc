#include "ledger-svc/app/credit_limits.h"

#include "ledger-svc/store/entry_writes.h"

namespace kelola::ledger {

v1::CreditLimit NewCreditLimit(const LedgerContext& ctx, const SetCreditLimitCommand& cmd,
                               int64_t now_micros) {
  v1::CreditLimit limit;
  if (cmd.subject.kind == LimitSubject::kCustomer) {
    limit.set_customer_id(cmd.subject.id);
  } else {
    limit.set_category_id(cmd.subject.id);
  }
  *limit.mutable_limit() = entries::M(cmd.limit, ctx.currency);
  limit.set_update_by(ctx.principal);
  entries::SetTime(limit.mutable_update_time(), now_micros);
  return limit;
}

absl::StatusOr<v1::SetCreditLimitResponse> CreditLimits::Set(const LedgerContext& ctx,
                                                             const SetCreditLimitCommand& cmd,
                                                             const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return writer_.Run<v1::SetCreditLimitResponse>(
      ctx, "SetCreditLimit", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::SetCreditLimitResponse& out) -> absl::Status {
        const std::string subject = cmd.subject.name();
        if (cmd.subject.kind == LimitSubject::kCustomer) {  // none for a deleted or merged one
          LEDGER_ASSIGN_OR_RETURN(row, entries::LockCustomer(tx, ctx, cmd.subject.id));
          (void)row;
        }
        const v1::CreditLimit limit = NewCreditLimit(ctx, cmd, now);
        LEDGER_ASSIGN_OR_RETURN(
            version, entries::UpsertCreditLimit(tx, ctx, subject, cmd.subject.id, limit, now));
        *out.mutable_credit_limit() = limit;
        return entries::AppendLimitEvent(writer_.outbox(), tx, ctx, subject, cmd.subject.id,
                                         version, &limit, cmd.request_id);
      });
}

absl::StatusOr<v1::DeleteCreditLimitResponse> CreditLimits::Delete(
    const LedgerContext& ctx, const DeleteCreditLimitCommand& cmd,
    const idempotency::Print& print) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return writer_.Run<v1::DeleteCreditLimitResponse>(
      ctx, "DeleteCreditLimit", cmd.request_id, print, now,
      [&](db::Transaction& tx, v1::DeleteCreditLimitResponse& out) -> absl::Status {
        const std::string subject = cmd.subject.name();
        LEDGER_ASSIGN_OR_RETURN(version,
                                entries::DeleteCreditLimit(tx, ctx, subject, cmd.subject.id, now));
        out.set_existed(version.has_value());
        if (!version.has_value()) return absl::OkStatus();
        return entries::AppendLimitEvent(writer_.outbox(), tx, ctx, subject, cmd.subject.id,
                                         *version, nullptr, cmd.request_id);
      });
}

}  // namespace kelola::ledger
