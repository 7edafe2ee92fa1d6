#pragma once

// The steps shared by the writes that change a recorded sale (VoidSale, RefundSale).

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/store/ledger_entries.h"
#include "libs/db/database.h"

namespace kelola::ledger {

// The customer of a sale and its ledger row as locked by the write.
struct SaleOwner {
  std::string customer;  // empty: a walk-in sale (nothing locked)
  entries::CustomerRow before;
};

// Reads sale `sale_id` (SALE_NOT_FOUND) and locks its customer's row (CUSTOMER_SEALED,
// CUSTOMER_MERGED) so that the sale's facts read after it are final.
absl::StatusOr<SaleOwner> LockSaleOwner(db::Transaction& tx, const LedgerContext& ctx,
                                        const std::string& sale_id);

// After the change: the sale as it is now (FULL view) into `out`, and the customer's
// statistics recomputed into `out` and `event`. Returns the version of the event of a
// walk-in sale (aggregate sale: `walk_in_base` + its refunds), else 0.
template <typename Response, typename Event>
absl::StatusOr<int64_t> RecordSaleChange(db::Transaction& tx, const LedgerContext& ctx,
                                         const std::string& sale_id, const SaleOwner& owner,
                                         absl::CivilDay today, int64_t walk_in_base, Response& out,
                                         Event& event) {
  LEDGER_ASSIGN_OR_RETURN(after, entries::GetSaleFacts(tx, ctx, sale_id));
  LEDGER_ASSIGN_OR_RETURN(sale, entries::BuildSale(tx, ctx, after, v1::SALE_VIEW_FULL, today));
  *out.mutable_sale() = std::move(sale);
  event.set_customer_id(owner.customer);
  if (owner.customer.empty()) return walk_in_base + out.sale().refunds_size();
  LEDGER_ASSIGN_OR_RETURN(stats, entries::BumpAndRecord(tx, ctx, owner.customer, owner.before,
                                                        today, nullptr, out, event));
  return int64_t{0};
}

}  // namespace kelola::ledger
