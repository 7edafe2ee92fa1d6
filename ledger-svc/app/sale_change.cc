#include "ledger-svc/app/sale_change.h"

namespace kelola::ledger {

absl::StatusOr<SaleOwner> LockSaleOwner(db::Transaction& tx, const LedgerContext& ctx,
                                        const std::string& sale_id) {
  LEDGER_ASSIGN_OR_RETURN(pre, entries::GetSaleFacts(tx, ctx, sale_id));
  SaleOwner owner;
  owner.customer = pre.record.customer_id();
  if (!owner.customer.empty()) {
    LEDGER_ASSIGN_OR_RETURN(row, entries::LockCustomer(tx, ctx, owner.customer));
    owner.before = std::move(row);
  }
  return owner;
}

}  // namespace kelola::ledger
