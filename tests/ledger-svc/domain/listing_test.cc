#include "ledger-svc/domain/listing.h"

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

TEST(ListingTest, ParsesTermsJoinedByAnd) {
  auto terms = ParseFilter(R"(sale_date >= "2024-05-01" AND status != VOIDED AND open = true)");
  ASSERT_TRUE(terms.ok()) << terms.status();
  ASSERT_EQ(terms->size(), 3u);
  EXPECT_EQ((*terms)[0].field, "sale_date");
  EXPECT_EQ((*terms)[0].op, ">=");
  EXPECT_EQ((*terms)[0].value, "2024-05-01");
  EXPECT_TRUE((*terms)[0].quoted);
  EXPECT_EQ((*terms)[1].op, "!=");
  EXPECT_EQ((*terms)[1].value, "VOIDED");
  EXPECT_FALSE((*terms)[1].quoted);
  EXPECT_TRUE(ParseFilter("")->empty());
  auto escaped = ParseFilter(R"(store_id = "a\"b")");
  ASSERT_TRUE(escaped.ok());
  EXPECT_EQ((*escaped)[0].value, "a\"b");
}

TEST(ListingTest, RejectsMalformedFilters) {
  for (const char* bad : {"status", "status ~ PAID", "a = 1 OR b = 2", R"(a = "x)", "= 1"}) {
    auto terms = ParseFilter(bad);
    EXPECT_EQ(errors::Reason(terms.status()), "INVALID_FILTER") << bad;
    EXPECT_EQ(errors::GetMetadata(terms.status()).count("position"), 1u) << bad;
  }
}

TEST(ListingTest, PageTokensAreBoundToTheirParameters) {
  const std::string token = EncodePageToken("t1|ListSales|c1", {"123", "7"});
  auto keys = DecodePageToken(token, "t1|ListSales|c1");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{"123", "7"}));
  EXPECT_EQ(errors::Reason(DecodePageToken(token, "t2|ListSales|c1").status()),
            "PAGE_TOKEN_MISMATCH");
  EXPECT_EQ(errors::Reason(DecodePageToken("!!!", "x").status()), "PAGE_TOKEN_INVALID");
}

TEST(ListingTest, PageSize) {
  EXPECT_EQ(*PageSize(0), 50);
  EXPECT_EQ(*PageSize(500), 200);
  EXPECT_EQ(*PageSize(7), 7);
  EXPECT_FALSE(PageSize(-1).ok());
}

}  // namespace
}  // namespace kelola::ledger
