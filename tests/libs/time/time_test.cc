#include "libs/time/time.h"

#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"

namespace kelola::time {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  ts.set_nanos(nanos);
  return ts;
}

type::v1::Date D(int year, int month, int day) {
  type::v1::Date d;
  d.set_year(year);
  d.set_month(month);
  d.set_day(day);
  return d;
}

// What the export and every JSON client need: the Timestamp has an RFC 3339 form.
bool PrintsAsJson(const google::protobuf::Timestamp& ts) {
  std::string json;
  return google::protobuf::util::MessageToJsonString(ts, &json).ok();
}

// The refusal names the field, with the generic reason and a description.
void ExpectRefused(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(errors::Reason(status), "INVALID_ARGUMENT");
  ASSERT_EQ(errors::Violations(status).size(), 1u) << status;
  EXPECT_EQ(errors::Violations(status)[0].field, field);
  EXPECT_FALSE(errors::Violations(status)[0].description.empty());
}

TEST(TimestampTest, AcceptsTheExactLimits) {
  EXPECT_TRUE(ValidateTimestamp(Ts(-62135596800, 0), "t").ok());
  EXPECT_TRUE(ValidateTimestamp(Ts(253402300799, 999999999), "t").ok());
  EXPECT_TRUE(ValidateTimestamp(Ts(0, 0), "t").ok());
  EXPECT_FALSE(PrintsAsJson(Ts(-62135596801, 0)));  // protobuf's own limit
  EXPECT_FALSE(PrintsAsJson(Ts(0, -1)));
  // The same limits as protobuf's own check.
  EXPECT_TRUE(PrintsAsJson(Ts(-62135596800, 0)));
  EXPECT_TRUE(PrintsAsJson(Ts(253402300799, 999999999)));
}

TEST(TimestampTest, RefusesOnePastTheLimits) {
  ExpectRefused(ValidateTimestamp(Ts(-62135596801, 0), "consent_time"), "consent_time");
  ExpectRefused(ValidateTimestamp(Ts(253402300800, 0), "consent_time"), "consent_time");
  ExpectRefused(ValidateTimestamp(Ts(0, -1), "sale_time"), "sale_time");
  ExpectRefused(ValidateTimestamp(Ts(0, 1000000000), "sale_time"), "sale_time");
  ExpectRefused(FromTimestamp(Ts(INT64_MIN, 0), "x").status(), "x");
  ExpectRefused(FromTimestamp(Ts(INT64_MAX, INT32_MAX), "x").status(), "x");
}

TEST(TimestampTest, ConvertsBothWays) {
  auto t = FromTimestamp(Ts(1767225600, 123456789), "t");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, absl::FromUnixSeconds(1767225600) + absl::Nanoseconds(123456789));
  const auto back = ToTimestamp(*t);
  EXPECT_EQ(back.seconds(), 1767225600);
  EXPECT_EQ(back.nanos(), 123456789);
  // Before the epoch: seconds round down, nanos stay positive.
  const auto before = ToTimestamp(absl::FromUnixMicros(-1));
  EXPECT_EQ(before.seconds(), -1);
  EXPECT_EQ(before.nanos(), 999999000);
  EXPECT_EQ(ToUnixMicros(before), -1);
  EXPECT_EQ(ToUnixMicros(TimestampFromUnixMicros(-1500001)), -1500001);
  EXPECT_EQ(ToUnixMicros(TimestampFromUnixMicros(1767225600123456)), 1767225600123456);
  // The limits survive a round trip.
  EXPECT_EQ(ToTimestamp(ToTime(Ts(-62135596800, 0))).seconds(), -62135596800);
  const auto max = ToTimestamp(ToTime(Ts(253402300799, 999999999)));
  EXPECT_EQ(max.seconds(), 253402300799);
  EXPECT_EQ(max.nanos(), 999999999);
}

TEST(TimestampTest, WhatTheServicesWriteIsAlwaysValid) {
  EXPECT_TRUE(PrintsAsJson(ToTimestamp(absl::InfiniteFuture())));
  EXPECT_TRUE(PrintsAsJson(ToTimestamp(absl::InfinitePast())));
  EXPECT_TRUE(PrintsAsJson(ToTimestamp(absl::FromUnixSeconds(253402300800))));
  EXPECT_TRUE(PrintsAsJson(ToTimestamp(absl::FromUnixSeconds(-62135596801))));
  EXPECT_TRUE(PrintsAsJson(TimestampFromUnixMicros(INT64_MAX)));
  EXPECT_TRUE(PrintsAsJson(TimestampFromUnixMicros(INT64_MIN)));
  // A stored out-of-range value reads back clamped, not as garbage.
  EXPECT_EQ(ToTime(Ts(0, -1)), absl::UnixEpoch());
  EXPECT_EQ(ToTime(Ts(INT64_MIN, 0)), absl::FromUnixSeconds(-62135596800));
}

// Stored records are clamped wherever their times sit: top-level and nested fields and
// Any payloads; types that reach no Timestamp (a recursive Struct included) are left alone.
TEST(TimestampTest, StoredTimesAreClampedWhereverTheySit) {
  customer::v1::Customer c;
  c.set_display_name("Budi");
  c.mutable_phone()->set_e164("+6281234567890");
  c.add_additional_phones()->set_e164("+6281234567891");
  c.mutable_address()->set_city("Bandung");
  *c.mutable_create_time() = Ts(1700000000, -1);
  *c.mutable_marketing_consent()->mutable_consent_time() = Ts(-62135596801, 0);
  const customer::v1::Customer before = c;
  EXPECT_TRUE(ClampStoredTimestamps(&c));
  EXPECT_EQ(c.create_time().seconds(), 1700000000);
  EXPECT_EQ(c.create_time().nanos(), 0);
  EXPECT_EQ(c.marketing_consent().consent_time().seconds(), -62135596800);
  EXPECT_EQ(c.phone().e164(), before.phone().e164());
  EXPECT_EQ(c.additional_phones(0).e164(), before.additional_phones(0).e164());
  EXPECT_FALSE(ClampStoredTimestamps(&c));  // nothing left to clamp

  google::protobuf::Any any;
  any.PackFrom(Ts(253402300800, 0));
  EXPECT_TRUE(ClampStoredTimestamps(&any));
  google::protobuf::Timestamp unpacked;
  ASSERT_TRUE(any.UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.seconds(), 253402300799);

  google::protobuf::Struct nested;
  (*(*nested.mutable_fields())["a"].mutable_struct_value()->mutable_fields())["b"].set_number_value(
      1);
  const std::string bytes = nested.SerializeAsString();
  EXPECT_FALSE(ClampStoredTimestamps(&nested));
  EXPECT_EQ(nested.SerializeAsString(), bytes);
}

TEST(DateTest, AcceptsTheExactLimits) {
  EXPECT_TRUE(ValidateDate(D(1, 1, 1), "d").ok());
  EXPECT_TRUE(ValidateDate(D(9999, 12, 31), "d").ok());
  EXPECT_TRUE(ValidateDate(D(2024, 2, 29), "d").ok());
  EXPECT_TRUE(ValidateDate(D(0, 2, 29), "d", {.allow_unknown_year = true}).ok());
  EXPECT_TRUE(ValidateDate(D(1900, 1, 1), "d", {.min_year = 1900}).ok());
}

TEST(DateTest, RefusesOnePastTheLimits) {
  ExpectRefused(ValidateDate(D(0, 1, 1), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(10000, 1, 1), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2024, 0, 1), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2024, 13, 1), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2024, 1, 0), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2024, 1, 32), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2023, 2, 29), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(2024, 4, 31), "due_date"), "due_date");
  ExpectRefused(ValidateDate(D(1899, 12, 31), "birthday", {.min_year = 1900}), "birthday");
  ExpectRefused(ValidateDate(D(0, 2, 30), "birthday", {.allow_unknown_year = true}), "birthday");
  ExpectRefused(FromDate(D(0, 2, 28), "as_of_date", {.allow_unknown_year = true}).status(),
                "as_of_date");
}

TEST(DateTest, ConvertsBothWays) {
  auto day = FromDate(D(2026, 3, 31), "d");
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(*day, absl::CivilDay(2026, 3, 31));
  const type::v1::Date back = ToDate(*day);
  EXPECT_EQ(back.year(), 2026);
  EXPECT_EQ(back.month(), 3);
  EXPECT_EQ(back.day(), 31);
  EXPECT_EQ(ToCivilDay(back), *day);
}

TEST(LoadTenantTimeZoneTest, TheZonesOfIndonesiaAndThailandLoad) {
  for (const char* zone :
       {"Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura", "Asia/Bangkok"}) {
    auto loaded = LoadTenantTimeZone(zone);
    ASSERT_TRUE(loaded.ok()) << zone;
    // A sale at 23:30 in Jakarta on New Year's Eve belongs to that Jakarta day.
    if (std::string(zone) == "Asia/Jakarta") {
      const absl::Time t =
          absl::FromCivil(absl::CivilSecond(2026, 12, 31, 16, 30, 0), absl::UTCTimeZone());
      EXPECT_EQ(absl::ToCivilDay(t, *loaded), absl::CivilDay(2026, 12, 31));
    }
  }
  EXPECT_EQ(LoadTenantTimeZone("Nowhere/Atlantis").status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace kelola::time
