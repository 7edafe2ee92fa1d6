// TenantSettingsCache: answers are kept for the TTL, asked for again after it, and an
// earlier answer carries the ledger through a customer-svc outage; without one, the call
// is refused rather than guessed.

#include "ledger-svc/api/tenant_settings_cache.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

class CountingDirectory final : public CustomerDirectory {
 public:
  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view, absl::string_view,
                                             absl::Time) override {
    return CustomerCheck{};
  }
  absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view tenant_id,
                                                   absl::Time) override {
    ++calls;
    if (down) {
      return errors::Error(absl::StatusCode::kUnavailable, "CUSTOMER_SERVICE_UNAVAILABLE", "down");
    }
    return settings[std::string(tenant_id)];
  }

  int calls = 0;
  bool down = false;
  std::map<std::string, TenantSettings> settings;
};

LedgerContext Tenant(const std::string& id) {
  LedgerContext ctx;
  ctx.tenant_id = id;
  return ctx;
}

TEST(TenantSettingsCacheTest, KeepsAnswersForTheTtlAndAsksAgainAfterIt) {
  CountingDirectory directory;
  directory.settings["thai"] = {"THB", "Asia/Bangkok"};
  directory.settings["toko"] = {"IDR", "Asia/Makassar"};
  FakeClock clock;
  TenantSettingsCache cache(directory, clock);
  LedgerContext thai = Tenant("thai");
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), thai).ok());
  EXPECT_EQ(thai.currency, "THB");
  const absl::Time noon =
      absl::FromCivil(absl::CivilSecond(2026, 1, 1, 12, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(absl::ToCivilHour(noon, thai.time_zone), absl::CivilHour(2026, 1, 1, 19));
  LedgerContext toko = Tenant("toko");
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), toko).ok());
  EXPECT_EQ(toko.currency, "IDR");
  EXPECT_EQ(absl::ToCivilHour(noon, toko.time_zone), absl::CivilHour(2026, 1, 1, 20));
  EXPECT_EQ(directory.calls, 2);
  clock.Advance(absl::Seconds(59));
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), thai).ok());
  EXPECT_EQ(directory.calls, 2);
  // A change in customer-svc is seen after the TTL.
  directory.settings["thai"] = {"THB", "Asia/Jayapura"};
  clock.Advance(absl::Seconds(2));
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), thai).ok());
  EXPECT_EQ(directory.calls, 3);
  EXPECT_EQ(absl::ToCivilHour(noon, thai.time_zone), absl::CivilHour(2026, 1, 1, 21));
}

TEST(TenantSettingsCacheTest, AnEarlierAnswerOutlastsAnOutageButNothingIsGuessed) {
  CountingDirectory directory;
  directory.settings["thai"] = {"THB", "Asia/Bangkok"};
  FakeClock clock;
  TenantSettingsCache cache(directory, clock);
  LedgerContext thai = Tenant("thai");
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), thai).ok());
  directory.down = true;
  clock.Advance(absl::Minutes(10));
  LedgerContext again = Tenant("thai");
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), again).ok());
  EXPECT_EQ(again.currency, "THB");
  EXPECT_EQ(directory.calls, 2);
  // Not asked again at once after a failure.
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), again).ok());
  EXPECT_EQ(directory.calls, 2);
  clock.Advance(absl::Seconds(6));
  ASSERT_TRUE(cache.Resolve(absl::InfiniteFuture(), again).ok());
  EXPECT_EQ(directory.calls, 3);
  // A tenant never answered for is refused, not given a default currency.
  LedgerContext unknown = Tenant("new-tenant");
  absl::Status status = cache.Resolve(absl::InfiniteFuture(), unknown);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(status), "CUSTOMER_SERVICE_UNAVAILABLE");
}

}  // namespace
}  // namespace kelola::ledger
