#include "ledger-svc/store/ledger_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "ledger-svc/store/ledger_entries.h"

namespace kelola::ledger {

using entries::FindStoredResponse;
using entries::Transaction;

absl::CivilDay LedgerStore::Today(const LedgerContext& ctx) const {
  return absl::ToCivilDay(clock_.Now(), ctx.time_zone);
}

absl::StatusOr<std::optional<std::string>> LedgerStore::FindReplay(
    const LedgerContext& ctx, absl::string_view rpc, const std::string& request_id,
    const idempotency::Print& print) {
  std::optional<std::string> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(found, FindStoredResponse(tx, ctx, rpc, request_id, print));
        out = std::move(found);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

// ---------------------------------------------------------------------------------
// Credit limits

absl::StatusOr<std::optional<v1::CreditLimit>> LedgerStore::FindCreditLimit(
    const LedgerContext& ctx, absl::string_view subject, const std::string& subject_id) {
  std::optional<v1::CreditLimit> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.reset();
        LEDGER_ASSIGN_OR_RETURN(
            rows, tx.Query("SELECT record FROM credit_limits WHERE tenant_id = ? AND subject = ? "
                           "AND subject_id = ? AND deleted = 0",
                           {ctx.tenant_id, std::string(subject), subject_id}));
        if (rows.empty()) return absl::OkStatus();
        v1::CreditLimit limit;
        limit.ParseFromString(rows[0].GetBytes(0));
        out = std::move(limit);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

}  // namespace kelola::ledger
