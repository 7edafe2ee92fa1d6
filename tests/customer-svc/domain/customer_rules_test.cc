#include "customer-svc/domain/customer_rules.h"

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

using v1::Customer;

class CustomerRulesTest : public ::testing::Test {
 protected:
  ValidationContext Context(const std::string& region = "ID") {
    ValidationContext c;
    c.phone_region = region;
    c.now = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
    c.time_zone = absl::UTCTimeZone();
    return c;
  }
  std::vector<std::string> Fields(const errors::FieldErrors& e) {
    std::vector<std::string> out;
    for (const auto& v : e.violations()) out.push_back(v.field);
    return out;
  }
  phone::PhoneNormalizer phones_;
};

TEST_F(CustomerRulesTest, NormalizesNamePhonesAndEmail) {
  Customer in;
  in.set_display_name("  Budi   Santoso ");
  in.mutable_phone()->set_raw("0812-3456-789");
  in.add_additional_phones()->set_raw("+62 811 2222 333");
  in.set_email(" Budi@Example.CO.ID ");
  in.mutable_birthday()->set_month(2);
  in.mutable_birthday()->set_day(29);  // year unknown: 29 February is fine
  errors::FieldErrors errors;
  Customer out = NormalizeCustomer(in, Context(), phones_, {}, "customer", errors);
  ASSERT_TRUE(errors.empty()) << errors.ToStatus();
  EXPECT_EQ(out.display_name(), "Budi Santoso");
  EXPECT_EQ(out.phone().e164(), "+628123456789");
  EXPECT_EQ(out.phone().raw(), "0812-3456-789");
  EXPECT_EQ(out.additional_phones(0).e164(), "+628112222333");
  EXPECT_EQ(out.email(), "budi@example.co.id");
}

TEST_F(CustomerRulesTest, ThaiRegionReadsLocalNumbersAsThai) {
  Customer in;
  in.set_display_name("สมชาย ใจดี");
  in.mutable_phone()->set_raw("081 234 5678");
  errors::FieldErrors errors;
  Customer out = NormalizeCustomer(in, Context("TH"), phones_, {}, "customer", errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(out.phone().e164(), "+66812345678");
}

TEST_F(CustomerRulesTest, NamesEveryInvalidField) {
  Customer in;
  in.set_display_name("   ");
  in.mutable_phone()->set_raw("0812-ABC");
  in.add_additional_phones()->set_raw("0812-3456-789");
  in.add_additional_phones()->set_raw("+62 812 3456 789");  // repeats the one before
  in.set_email("budi@@example");
  in.set_notes(std::string(4001, 'x'));
  in.mutable_birthday()->set_year(2023);
  in.mutable_birthday()->set_month(2);
  in.mutable_birthday()->set_day(29);  // 2023 is not a leap year
  in.set_company_name(std::string(201, 'c'));
  in.mutable_address()->set_region_code("IDN");
  errors::FieldErrors errors;
  NormalizeCustomer(in, Context(), phones_, {}, "customer", errors);
  const auto fields = Fields(errors);
  for (const char* f :
       {"customer.display_name", "customer.phone.raw", "customer.additional_phones[1]",
        "customer.email", "customer.notes", "customer.birthday", "customer.company_name",
        "customer.address.region_code"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), f), fields.end()) << f;
  }
  EXPECT_EQ(errors::Reason(ToValidationStatus(errors)), "INVALID_ARGUMENT");
}

TEST_F(CustomerRulesTest, NameLimitIsCountedInCharactersAfterTrimming) {
  Customer in;
  in.set_display_name("  " + std::string(200, 'a') + "  ");
  errors::FieldErrors ok;
  NormalizeCustomer(in, Context(), phones_, {}, "customer", ok);
  EXPECT_TRUE(ok.empty());
  std::string thai;
  for (int i = 0; i < 201; ++i) thai += "ก";
  in.set_display_name(thai);
  errors::FieldErrors too_long;
  NormalizeCustomer(in, Context(), phones_, {}, "customer", too_long);
  EXPECT_FALSE(too_long.empty());
}

TEST_F(CustomerRulesTest, BirthdayInTheFutureIsRefused) {
  Customer in;
  in.set_display_name("Ani");
  in.mutable_birthday()->set_year(2027);
  in.mutable_birthday()->set_month(1);
  in.mutable_birthday()->set_day(1);
  errors::FieldErrors errors;
  NormalizeCustomer(in, Context(), phones_, {}, "customer", errors);
  ASSERT_EQ(Fields(errors), std::vector<std::string>{"customer.birthday"});
}

TEST_F(CustomerRulesTest, PhoneOnlyErrorsUseTheInvalidPhoneReason) {
  Customer in;
  in.set_display_name("Ani");
  in.mutable_phone()->set_raw("12");
  errors::FieldErrors errors;
  NormalizeCustomer(in, Context(), phones_, {}, "customer", errors);
  EXPECT_EQ(errors::Reason(ToValidationStatus(errors)), "INVALID_PHONE");
}

TEST_F(CustomerRulesTest, UpdateMaskAppliesNamedFieldsOnly) {
  Customer current;
  current.set_display_name("Old");
  current.set_notes("keep");
  current.set_email("a@b.co");
  Customer patch;
  patch.set_display_name("New");
  patch.set_notes("ignored");
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  mask.add_paths("email");  // cleared: empty in the patch
  auto out = ApplyUpdateMask(current, patch, mask);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->display_name(), "New");
  EXPECT_EQ(out->notes(), "keep");
  EXPECT_EQ(out->email(), "");
  EXPECT_EQ(ChangedPaths(current, *out), (std::vector<std::string>{"display_name", "email"}));
}

TEST_F(CustomerRulesTest, UpdateMaskRefusesStateAndUnknownPaths) {
  google::protobuf::FieldMask mask;
  mask.add_paths("display_name");
  mask.add_paths("state");
  mask.add_paths("nonsense");
  auto out = ApplyUpdateMask(Customer(), Customer(), mask);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(errors::Reason(out.status()), "INVALID_UPDATE_MASK");
  EXPECT_EQ(errors::Violations(out.status()).size(), 2u);
}

TEST_F(CustomerRulesTest, EtagsAndAnonymization) {
  EXPECT_TRUE(CheckEtag("", 3).ok());
  EXPECT_TRUE(CheckEtag("v3", 3).ok());
  auto stale = CheckEtag("v2", 3);
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(errors::Reason(stale), "ETAG_MISMATCH");
  EXPECT_EQ(errors::GetMetadata(stale).at("current_etag"), "v3");

  Customer c;
  c.set_customer_id("id-1");
  c.set_display_name("Budi");
  c.mutable_phone()->set_e164("+628123456789");
  c.set_notes("secret");
  c.set_category_id("vip");
  Customer a = Anonymized(c);
  EXPECT_EQ(a.customer_id(), "id-1");
  EXPECT_EQ(a.category_id(), "vip");
  EXPECT_TRUE(a.display_name().empty());
  EXPECT_FALSE(a.has_phone());
  EXPECT_TRUE(a.notes().empty());
}

}  // namespace
}  // namespace kelola::customer::domain
