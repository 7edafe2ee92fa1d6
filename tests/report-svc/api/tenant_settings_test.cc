// Tenant settings from customer-svc's TenantService (an in-process fake): the tenant header
// is sent, answers are cached for the ttl, the last answer is used while customer-svc is
// down, and without any answer the call is UNAVAILABLE.

#include "report-svc/api/tenant_settings.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/errors/errors.h"

namespace kelola::report {
namespace {

class FakeTenants final : public customer::v1::TenantService::Service {
 public:
  grpc::Status GetTenantSettings(grpc::ServerContext* context,
                                 const customer::v1::GetTenantSettingsRequest*,
                                 customer::v1::GetTenantSettingsResponse* response) override {
    calls++;
    if (down) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    auto tenant = context->client_metadata().find("x-kelola-tenant");
    if (tenant == context->client_metadata().end() || tenant->second != "toko-ani") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no tenant");
    }
    response->mutable_settings()->set_currency_code(currency);
    response->mutable_settings()->set_time_zone(zone);
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
  std::atomic<bool> down{false};
  std::string currency = "THB";
  std::string zone = "Asia/Bangkok";
};

class TenantSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    settings_ = std::make_unique<GrpcTenantSettings>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()),
        clock_, absl::Seconds(60));
  }
  void TearDown() override { server_->Shutdown(); }

  absl::StatusOr<TenantSettings> Get(const std::string& tenant = "toko-ani") {
    return settings_->Get(tenant, absl::Now() + absl::Seconds(5));
  }

  FakeTenants fake_;
  FakeClock clock_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<GrpcTenantSettings> settings_;
};

TEST_F(TenantSettingsTest, AsksCustomerSvcOnceWithinTheTtl) {
  auto first = Get();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->currency, "THB");
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 1, 1, 17, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(absl::ToCivilDay(t, first->time_zone), absl::CivilDay(2026, 1, 2));  // UTC+7
  ASSERT_TRUE(Get().ok());
  EXPECT_EQ(fake_.calls.load(), 1);
  clock_.Advance(absl::Seconds(61));
  fake_.currency = "IDR";
  auto refreshed = Get();
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(refreshed->currency, "IDR");
  EXPECT_EQ(fake_.calls.load(), 2);
}

TEST_F(TenantSettingsTest, UsesTheLastAnswerWhileCustomerSvcIsDown) {
  ASSERT_TRUE(Get().ok());
  fake_.down = true;
  clock_.Advance(absl::Minutes(10));
  auto stale = Get();
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->currency, "THB");
}

TEST_F(TenantSettingsTest, WithoutAnyAnswerTheCallIsUnavailable) {
  fake_.down = true;
  auto none = Get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(none.status()), "STORE_UNAVAILABLE");
}

}  // namespace
}  // namespace kelola::report
