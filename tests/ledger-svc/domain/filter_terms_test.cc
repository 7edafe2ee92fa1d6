#include "ledger-svc/domain/filter_terms.h"

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

absl::Status Check(absl::string_view filter) {
  auto terms = ParseFilter(filter);
  if (!terms.ok()) return terms.status();
  return CheckTermsOnce(*terms, {"sale_date", "balance"});
}

TEST(FilterTermsTest, ARangeFieldGivesEachBoundOnce) {
  EXPECT_TRUE(Check("sale_date >= \"2024-05-01\" AND sale_date < \"2024-06-01\"").ok());
  EXPECT_TRUE(Check("sale_date = \"2024-05-01\"").ok());
  EXPECT_TRUE(Check("balance > 5 AND status = PAID").ok());
  for (const char* filter : {"sale_date >= \"2024-05-01\" AND sale_date > \"2024-05-02\"",
                             "sale_date <= \"2024-05-01\" AND sale_date < \"2024-05-02\"",
                             "sale_date = \"2024-05-01\" AND sale_date >= \"2024-05-02\"",
                             "balance > 1 AND balance >= 5"}) {
    absl::Status s = Check(filter);
    EXPECT_EQ(errors::Reason(s), "INVALID_FILTER") << filter;
  }
}

TEST(FilterTermsTest, OtherFieldsAppearOnceAndTheErrorPointsAtTheRepeat) {
  absl::Status s = Check("status = PAID AND status = UNPAID");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(s), "INVALID_FILTER");
  EXPECT_EQ(errors::GetMetadata(s)["position"], "18");
  ASSERT_EQ(errors::Violations(s).size(), 1u);
  EXPECT_EQ(errors::Violations(s)[0].field, "filter");
  EXPECT_EQ(errors::Reason(Check("open = true AND open = true")), "INVALID_FILTER");
}

}  // namespace
}  // namespace kelola::ledger
