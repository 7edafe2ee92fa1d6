#pragma once

// The statements of the ledger's side of customer-svc's delete (C4) and merge (C7)
// protocols (app/customer_protocols.h), each in the protocol step's transaction.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/db/database.h"

namespace kelola::ledger::entries {

// Stores `stats` (the customer's statistics at their new version) with the seal and
// merge marks (empty: none).
absl::Status StoreCustomer(db::Transaction& tx, const LedgerContext& ctx, const std::string& id,
                           const v1::CustomerLedgerStats& stats, const std::string& seal_id,
                           const std::string& merged_into);

// Whether UnsealCustomer has withdrawn `seal_id` (its key is remembered).
absl::StatusOr<bool> SealWithdrawn(db::Transaction& tx, const LedgerContext& ctx,
                                   const std::string& seal_id);

// Forgets the stored answer of SealCustomer `seal_id`.
absl::Status ForgetSeal(db::Transaction& tx, const LedgerContext& ctx, const std::string& seal_id);

// How many sales and payments the customer has.
struct HistoryCount {
  int64_t sales = 0;
  int64_t payments = 0;
};
absl::StatusOr<HistoryCount> CountHistory(db::Transaction& tx, const LedgerContext& ctx,
                                          const std::string& customer_id);

// Rewrites the owner of every sale (payment) of `source` to `target`, naming the first
// owner in the record; returns the moved ids in entry order.
absl::StatusOr<std::vector<std::string>> MoveSales(db::Transaction& tx, const LedgerContext& ctx,
                                                   const std::string& source,
                                                   const std::string& target);
absl::StatusOr<std::vector<std::string>> MovePayments(db::Transaction& tx, const LedgerContext& ctx,
                                                      const std::string& source,
                                                      const std::string& target);
// The same for refunds and voids.
absl::Status MoveRefundsAndVoids(db::Transaction& tx, const LedgerContext& ctx,
                                 const std::string& source, const std::string& target);

// Deletes the customer's own credit limit; returns its new version, nullopt when it had
// none.
absl::StatusOr<std::optional<int64_t>> DropCustomerLimit(db::Transaction& tx,
                                                         const LedgerContext& ctx,
                                                         const std::string& customer_id,
                                                         int64_t now_micros);

}  // namespace kelola::ledger::entries
