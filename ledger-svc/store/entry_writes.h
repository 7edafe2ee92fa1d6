#pragma once

// The statements of the ledger's writes that insert or change one kind of row, taking
// the records to store and plain values (the rest are in ledger_entries.h). Each runs
// in the write's transaction; deferred statements are sent pipelined.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/db/database.h"

namespace kelola::ledger::entries {

// Inserts the row of `sale` (its id, number, customer and store as set on it) with its
// total in minor units, its time and its due date.
absl::Status InsertSale(db::Transaction& tx, const LedgerContext& ctx, const v1::Sale& sale,
                        int64_t total_minor, int64_t sale_time_micros,
                        const std::optional<absl::CivilDay>& due);

// Inserts the row of `refund` (its id, sale and customer as set on it) with its amount in
// minor units and its time, in entry order.
absl::Status InsertRefund(db::Transaction& tx, const LedgerContext& ctx, const v1::Refund& refund,
                          int64_t amount_minor, int64_t refund_time_micros);

// Sets the credit limit of `subject` ("customer" or "category") `subject_id` to `limit`
// (undeleting it); returns the limit's new version.
absl::StatusOr<int64_t> UpsertCreditLimit(db::Transaction& tx, const LedgerContext& ctx,
                                          const std::string& subject, const std::string& subject_id,
                                          const v1::CreditLimit& limit, int64_t now_micros);

// Marks the limit deleted; returns its new version, nullopt when there was none.
absl::StatusOr<std::optional<int64_t>> DeleteCreditLimit(db::Transaction& tx,
                                                         const LedgerContext& ctx,
                                                         const std::string& subject,
                                                         const std::string& subject_id,
                                                         int64_t now_micros);

// The sales payment `payment_id` has a positive net allocation to, with it, in entry
// order; with `other_than`, leaving that sale out.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> NetAllocationsOfPayment(
    db::Transaction& tx, const LedgerContext& ctx, const std::string& payment_id,
    const std::optional<std::string>& other_than = std::nullopt);

}  // namespace kelola::ledger::entries
