#include "ledger-svc/domain/sale_eligibility.h"

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

using customer_stream::CustomerState;

customer_stream::CustomerRow Row(CustomerState state) {
  customer_stream::CustomerRow row;
  row.customer_id = "c1";
  row.version = 3;
  row.state = state;
  row.merged_into_customer_id = state == CustomerState::kMerged ? "c2" : "";
  return row;
}

TEST(SaleEligibilityTest, OnlyActiveCustomersBuy) {
  EXPECT_TRUE(SaleEligibility(Row(CustomerState::kActive)).ok());
  for (CustomerState state : {CustomerState::kArchived, CustomerState::kErased}) {
    absl::Status refused = SaleEligibility(Row(state));
    EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(errors::Reason(refused), "CUSTOMER_ARCHIVED");
  }
  absl::Status merged = SaleEligibility(Row(CustomerState::kMerged));
  EXPECT_EQ(errors::Reason(merged), "CUSTOMER_MERGED");
  EXPECT_EQ(errors::GetMetadata(merged)["merged_into_customer_id"], "c2");
  absl::Status deleted = SaleEligibility(Row(CustomerState::kDeleted));
  EXPECT_EQ(deleted.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(errors::Reason(deleted), "CUSTOMER_NOT_FOUND");
}

}  // namespace
}  // namespace kelola::ledger
