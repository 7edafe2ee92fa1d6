#include "ledger-svc/app/directory_check.h"

#include "ledger-svc/store/directory_projection.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

constexpr char kNotProjected[] = "CUSTOMER_NOT_PROJECTED";

}  // namespace

absl::Status MayWrite(db::Transaction& tx, const LedgerContext& ctx, const std::string& customer,
                      const entries::CustomerRow& row,
                      const std::optional<customer_stream::CustomerRow>& directory,
                      const CustomerCheck* checked, Eligibility eligible) {
  if (checked == nullptr) {
    if (!directory.has_value()) {
      return entries::Err(absl::StatusCode::kNotFound, kNotProjected,
                          "the ledger's projection of the directory does not hold the customer");
    }
    LEDGER_RETURN_IF_ERROR(eligible(*directory));
  } else if (checked->version > 0) {
    customer_stream::CustomerRow remembered;
    remembered.customer_id = customer;
    remembered.version = checked->version;
    remembered.category_id = checked->category_id;
    LEDGER_RETURN_IF_ERROR(RememberDirectoryRow(tx, ctx.tenant_id, remembered));
  }
  return entries::CheckOpen(row, customer);
}

bool NotProjected(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound && errors::Reason(status) == kNotProjected;
}

}  // namespace kelola::ledger
