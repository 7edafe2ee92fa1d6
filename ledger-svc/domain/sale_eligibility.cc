#include "ledger-svc/domain/sale_eligibility.h"

#include "libs/errors/errors.h"

namespace kelola::ledger {

absl::Status SaleEligibility(const customer_stream::CustomerRow& row) {
  using customer_stream::CustomerState;
  const errors::Metadata customer = {{"customer_id", row.customer_id}};
  switch (row.state) {
    case CustomerState::kActive:
      return absl::OkStatus();
    case CustomerState::kArchived:
    case CustomerState::kErased:
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ARCHIVED",
                           "customer may not buy (archived or erased)", customer);
    case CustomerState::kMerged:
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGED",
                           "customer was merged; record the sale for the survivor",
                           {{"customer_id", row.customer_id},
                            {"merged_into_customer_id", row.merged_into_customer_id}});
    case CustomerState::kDeleted:
      break;
  }
  return errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "customer not found",
                       customer);
}

absl::Status PaymentEligibility(const customer_stream::CustomerRow& row) {
  absl::Status sale = SaleEligibility(row);
  if (errors::Reason(sale) == "CUSTOMER_ARCHIVED") return absl::OkStatus();
  return sale;
}

}  // namespace kelola::ledger
