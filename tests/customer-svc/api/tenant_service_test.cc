// TenantService through gRPC against SQLite and PostgreSQL.

#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::UnorderedElementsAre;

class TenantServiceTest : public DirectoryApiTest {};

TEST_P(TenantServiceTest, DefaultsThenValidatedUpdates) {
  v1::GetTenantSettingsResponse got;
  ASSERT_TRUE(tenants_->GetTenantSettings(Ctx().get(), {}, &got).ok());
  EXPECT_EQ(got.settings().tenant_id(), "t1");
  EXPECT_EQ(got.settings().default_phone_region(), "ID");
  EXPECT_EQ(got.settings().currency_code(), "IDR");
  EXPECT_EQ(got.settings().time_zone(), "Asia/Jakarta");
  EXPECT_EQ(got.settings().customer_limit(), 0);

  v1::UpdateTenantSettingsRequest bad;
  bad.mutable_settings()->set_default_phone_region("US");
  bad.mutable_settings()->set_currency_code("USD");
  bad.mutable_settings()->set_time_zone("Mars/Olympus");
  bad.mutable_settings()->set_customer_limit(-1);
  for (const char* p : {"default_phone_region", "currency_code", "time_zone", "customer_limit"}) {
    bad.mutable_update_mask()->add_paths(p);
  }
  v1::UpdateTenantSettingsResponse updated;
  grpc::Status refused = tenants_->UpdateTenantSettings(Ctx().get(), bad, &updated);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(refused),
              UnorderedElementsAre("settings.default_phone_region", "settings.currency_code",
                                   "settings.time_zone", "settings.customer_limit"));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM tenant_settings"), 0);

  // A customer created under the defaults: the service now remembers them for early
  // validation, and must notice the change below.
  v1::Customer budi = MustCreate("Budi Santoso", "0812 3456 7890");
  EXPECT_EQ(budi.phone().e164(), "+6281234567890");

  v1::UpdateTenantSettingsRequest thai;
  thai.mutable_settings()->set_default_phone_region("TH");
  thai.mutable_settings()->set_currency_code("THB");
  thai.mutable_settings()->set_time_zone("Asia/Bangkok");
  thai.mutable_settings()->set_etag(got.settings().etag());
  for (const char* p : {"default_phone_region", "currency_code", "time_zone"}) {
    thai.mutable_update_mask()->add_paths(p);
  }
  ASSERT_TRUE(tenants_->UpdateTenantSettings(Ctx().get(), thai, &updated).ok());
  EXPECT_EQ(updated.settings().currency_code(), "THB");
  EXPECT_NE(updated.settings().etag(), got.settings().etag());
  grpc::Status stale = tenants_->UpdateTenantSettings(Ctx().get(), thai, &updated);
  EXPECT_EQ(errors::Reason(Decode(stale)), "ETAG_MISMATCH");

  // Phones typed without a country code are now read as Thai numbers.
  v1::Customer somchai = MustCreate("สมชาย ใจดี", "081 234 5678");
  EXPECT_EQ(somchai.phone().e164(), "+66812345678");
  ASSERT_TRUE(tenants_->GetTenantSettings(Ctx().get(), {}, &got).ok());
  EXPECT_EQ(got.settings().customer_count(), 2);
  // Other tenants keep the defaults.
  ASSERT_TRUE(tenants_->GetTenantSettings(Ctx("t2").get(), {}, &got).ok());
  EXPECT_EQ(got.settings().default_phone_region(), "ID");
}

INSTANTIATE_TEST_SUITE_P(Drivers, TenantServiceTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
