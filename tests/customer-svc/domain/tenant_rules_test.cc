#include "customer-svc/domain/tenant_rules.h"

#include "customer-svc/domain/paging.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

TEST(TenantRulesTest, DefaultsAreValid) {
  const auto s = DefaultTenantSettings("toko-ani");
  EXPECT_EQ(s.default_phone_region(), "ID");
  EXPECT_EQ(s.currency_code(), "IDR");
  EXPECT_EQ(s.time_zone(), "Asia/Jakarta");
  EXPECT_EQ(s.customer_limit(), 0);
  EXPECT_TRUE(ValidateTenantSettings(s).ok());
  EXPECT_EQ(CollationLocale("TH"), "th");
  EXPECT_EQ(CollationLocale("ID"), "id");
}

TEST(TenantRulesTest, MaskAndValidation) {
  v1::TenantSettings patch;
  patch.set_default_phone_region("th");
  patch.set_time_zone("Asia/Makassar");
  patch.set_currency_code("USD");  // not in the mask: ignored
  auto next =
      ApplySettingsMask(DefaultTenantSettings("t"), patch, {"default_phone_region", "time_zone"});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->default_phone_region(), "TH");
  EXPECT_EQ(next->currency_code(), "IDR");
  EXPECT_TRUE(ValidateTenantSettings(*next).ok());

  auto bad_mask = ApplySettingsMask(DefaultTenantSettings("t"), patch, {"tenant_id"});
  EXPECT_EQ(errors::Reason(bad_mask.status()), "INVALID_UPDATE_MASK");

  v1::TenantSettings bad = DefaultTenantSettings("t");
  bad.set_time_zone("Asia/Atlantis");
  bad.set_customer_limit(-5);
  const auto violations = errors::Violations(ValidateTenantSettings(bad));
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field, "settings.time_zone");
  EXPECT_EQ(violations[1].field, "settings.customer_limit");
}

TEST(TenantRulesTest, DefaultCategoriesAndIds) {
  ASSERT_EQ(DefaultCategories().size(), 5u);
  EXPECT_STREQ(DefaultCategories()[0].id, "retail");
  EXPECT_TRUE(IsValidCategoryId("vip"));
  EXPECT_FALSE(IsValidCategoryId(""));
  EXPECT_FALSE(IsValidCategoryId("with space"));
  EXPECT_FALSE(IsValidCategoryId(std::string(65, 'a')));
}

TEST(PagingTest, TokensAreBoundToTheirListing) {
  const std::string token = EncodePageToken("birthdays", "7|", 50);
  auto offset = DecodePageToken(token, "birthdays", "7|");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 50);
  EXPECT_EQ(errors::Reason(DecodePageToken(token, "birthdays", "30|").status()),
            "PAGE_TOKEN_MISMATCH");
  EXPECT_EQ(errors::Reason(DecodePageToken(token, "prices", "7|").status()), "PAGE_TOKEN_INVALID");
  EXPECT_EQ(errors::Reason(DecodePageToken("%%%", "birthdays", "7|").status()),
            "PAGE_TOKEN_INVALID");
  EXPECT_EQ(*DecodePageToken("", "birthdays", "7|"), 0);
  EXPECT_EQ(*EffectivePageSize(0, 50, 500), 50);
  EXPECT_EQ(*EffectivePageSize(9999, 50, 500), 500);
  EXPECT_FALSE(EffectivePageSize(-1, 50, 500).ok());
}

}  // namespace
}  // namespace kelola::customer::domain
