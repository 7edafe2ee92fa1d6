#include "libs/phone/phone_normalizer.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::phone {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PhoneNormalizerTest : public ::testing::Test {
 protected:
  PhoneNormalizer normalizer_;
};

TEST_F(PhoneNormalizerTest, IndonesianMobileTypedEveryWay) {
  for (const char* raw : {"0812-3456-789", "+62 812 3456 789", "628123456789", "(0812) 3456 789",
                          "+62 (0)812 3456 789", "0812.3456.789", "08123456789", "+628123456789",
                          "  0812 3456 789\t"}) {
    absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize(raw, "ID");
    ASSERT_TRUE(phone.ok()) << raw << ": " << phone.status();
    EXPECT_EQ(phone->e164, "+628123456789") << raw;
    EXPECT_EQ(phone->national_significant_number, "8123456789") << raw;
    EXPECT_EQ(phone->region, "ID") << raw;
    EXPECT_EQ(phone->extension, "") << raw;
  }
}

TEST_F(PhoneNormalizerTest, RawIsKeptAsTypedButTrimmed) {
  absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize("  (0812) 3456 789 \u00A0", "ID");
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->raw, "(0812) 3456 789");
}

TEST_F(PhoneNormalizerTest, ThaiNumbers) {
  for (const char* raw :
       {"081 234 5678", "+66 81 234 5678", "0812345678", "66812345678", "๐๘๑ ๒๓๔ ๕๖๗๘"}) {
    absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize(raw, "TH");
    ASSERT_TRUE(phone.ok()) << raw << ": " << phone.status();
    EXPECT_EQ(phone->e164, "+66812345678") << raw;
    EXPECT_EQ(phone->national_significant_number, "812345678") << raw;
    EXPECT_EQ(phone->region, "TH") << raw;
  }
  // Bangkok landline.
  EXPECT_EQ(normalizer_.Normalize("02 123 4567", "TH")->e164, "+6621234567");
}

TEST_F(PhoneNormalizerTest, RegionIsCaseInsensitive) {
  EXPECT_EQ(normalizer_.Normalize("0812-3456-789", "id")->e164, "+628123456789");
}

TEST_F(PhoneNormalizerTest, ForeignNumberKeepsItsRegion) {
  // A Thai customer of an Indonesian shop.
  absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize("+66 81 234 5678", "ID");
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->e164, "+66812345678");
  EXPECT_EQ(phone->region, "TH");
  // The same digits without '+' are read as an Indonesian number, and 0812345678 is one.
  EXPECT_EQ(normalizer_.Normalize("0812345678", "ID")->e164, "+62812345678");
}

TEST_F(PhoneNormalizerTest, LandlineWithExtension) {
  absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize("021 5550 123 ext. 12", "ID");
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->e164, "+62215550123");
  EXPECT_EQ(phone->extension, "12");
}

TEST_F(PhoneNormalizerTest, InvalidNumbers) {
  for (const char* raw : {"", "   ", "abc", "12345", "0812", "08123456789012345", "0812-ABC-DEF",
                          "0812 3456 789 budi", "not a phone", "+", "0000000000"}) {
    absl::StatusOr<NormalizedPhone> phone = normalizer_.Normalize(raw, "ID");
    ASSERT_FALSE(phone.ok()) << raw << " -> " << phone->e164;
    EXPECT_EQ(phone.status().code(), absl::StatusCode::kInvalidArgument) << raw;
    EXPECT_EQ(errors::Reason(phone.status()), kReasonPhoneInvalid) << raw;
  }
  EXPECT_EQ(errors::Reason(normalizer_.Normalize(std::string(100, '1'), "ID").status()),
            kReasonPhoneInvalid);
  EXPECT_EQ(errors::Reason(normalizer_.Normalize("0812\xff", "ID").status()), kReasonPhoneInvalid);
}

TEST_F(PhoneNormalizerTest, UnknownDefaultRegion) {
  EXPECT_EQ(errors::Reason(normalizer_.Normalize("0812-3456-789", "XX").status()),
            kReasonPhoneRegionUnsupported);
  // No default region: only international numbers parse.
  EXPECT_EQ(normalizer_.Normalize("+62 812 3456 789", "")->e164, "+628123456789");
  EXPECT_EQ(errors::Reason(normalizer_.Normalize("0812-3456-789", "").status()),
            kReasonPhoneInvalid);
}

TEST_F(PhoneNormalizerTest, PossibleOnlyMode) {
  // "12345" has a possible length for Indonesia but is in no allocated range per the
  // metadata; with require_valid=false it is kept.
  PhoneNormalizerOptions options;
  options.require_valid = false;
  PhoneNormalizer lenient(options);
  EXPECT_FALSE(normalizer_.Normalize("12345", "ID").ok());
  absl::StatusOr<NormalizedPhone> phone = lenient.Normalize("12345", "ID");
  ASSERT_TRUE(phone.ok()) << phone.status();
  EXPECT_EQ(phone->e164, "+6212345");
  EXPECT_EQ(phone->region, "ID");
}

// Found by fuzz/phone_fuzzer: a trunk '0' too many gave a stored number that reads back
// as another one (+620812345678 -> +62812345678), so duplicates went unnoticed.
TEST_F(PhoneNormalizerTest, PossibleOnlyModeRefusesNumbersThatReadBackAsAnother) {
  PhoneNormalizerOptions options;
  options.require_valid = false;
  PhoneNormalizer lenient(options);
  for (const char* raw : {"+62 00812345678", "+62 0 0812 345 678", "00000000000))))"}) {
    absl::StatusOr<NormalizedPhone> phone = lenient.Normalize(raw, "ID");
    EXPECT_EQ(errors::Reason(phone.status()), kReasonPhoneInvalid)
        << raw << " -> " << (phone.ok() ? phone->e164 : "");
  }
  // Every accepted number reads back as itself; numbers with a leading zero of their own
  // (Italy) keep it.
  for (const char* raw : {"+62 (0)812 345 678", "0812345678", "+39 06 1234 5678", "12345"}) {
    absl::StatusOr<NormalizedPhone> phone = lenient.Normalize(raw, "ID");
    ASSERT_TRUE(phone.ok()) << raw << ": " << phone.status();
    EXPECT_EQ(lenient.Normalize(phone->e164, "ID")->e164, phone->e164) << raw;
  }
  EXPECT_EQ(lenient.Normalize("+39 06 1234 5678", "ID")->national_significant_number, "0612345678");
}

TEST_F(PhoneNormalizerTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto phone = normalizer_.Normalize("0812-3456-789", "ID");
        if (!phone.ok() || phone->e164 != "+628123456789") ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(PhoneNormalizerTest, SearchKeysIndonesia) {
  EXPECT_THAT(normalizer_.SearchKeys("0812-34", "ID"), ElementsAre("81234"));
  EXPECT_THAT(normalizer_.SearchKeys("+62 812", "ID"), ElementsAre("812"));
  EXPECT_THAT(normalizer_.SearchKeys("6281234", "ID"), ElementsAre("81234"));
  EXPECT_THAT(normalizer_.SearchKeys("3456", "ID"), ElementsAre("3456"));
  EXPECT_THAT(normalizer_.SearchKeys("(0812) 3456", "ID"), ElementsAre("8123456"));
  EXPECT_THAT(normalizer_.SearchKeys("+62 (0)812", "ID"), ElementsAre("812"));
  EXPECT_THAT(normalizer_.SearchKeys(" 3456 789 ", "ID"), ElementsAre("3456789"));
  EXPECT_THAT(normalizer_.SearchKeys("0812-3456-789", "ID"), ElementsAre("8123456789"));
}

TEST_F(PhoneNormalizerTest, SearchKeysThailand) {
  EXPECT_THAT(normalizer_.SearchKeys("081 234", "TH"), ElementsAre("81234"));
  EXPECT_THAT(normalizer_.SearchKeys("+66 81 234", "TH"), ElementsAre("81234"));
  EXPECT_THAT(normalizer_.SearchKeys("66812", "TH"), ElementsAre("812"));
  EXPECT_THAT(normalizer_.SearchKeys("๐๘๑ ๒๓๔", "TH"), ElementsAre("81234"));
  // A Thai number searched from an Indonesian tenant, with '+'.
  EXPECT_THAT(normalizer_.SearchKeys("+66 81 234", "ID"), ElementsAre("81234"));
}

TEST_F(PhoneNormalizerTest, SearchKeysEveryTypedFormFindsTheStoredNumber) {
  const std::string stored =
      normalizer_.Normalize("0812-3456-789", "ID")->national_significant_number;
  for (const char* query : {"0812-3456-789", "+62 812 3456 789", "628123456789", "(0812) 3456 789",
                            "0812 3456", "62 812", "456 78", "+62812"}) {
    std::vector<std::string> keys = normalizer_.SearchKeys(query, "ID");
    ASSERT_EQ(keys.size(), 1u) << query;
    EXPECT_NE(stored.find(keys[0]), std::string::npos) << query << " -> " << keys[0];
  }
}

TEST_F(PhoneNormalizerTest, SearchKeysNotAPhoneQuery) {
  EXPECT_THAT(normalizer_.SearchKeys("budi", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("budi 0812", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("a@b.co", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("0812+34", "ID"), IsEmpty());
}

TEST_F(PhoneNormalizerTest, SearchKeysTooShortOrIncomplete) {
  EXPECT_THAT(normalizer_.SearchKeys("08", "ID"), IsEmpty());   // "8"
  EXPECT_THAT(normalizer_.SearchKeys("081", "ID"), IsEmpty());  // "81"
  EXPECT_THAT(normalizer_.SearchKeys("12", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("+6", "ID"), IsEmpty());  // country code incomplete
  EXPECT_THAT(normalizer_.SearchKeys("+62", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("+62 81", "ID"), IsEmpty());
  EXPECT_THAT(normalizer_.SearchKeys("0812", "ID"), ElementsAre("812"));
}

}  // namespace
}  // namespace kelola::phone

namespace kelola::phone {
namespace {

TEST(NationalSignificantNumberTest, StripsTheCountryCallingCodeOfStoredNumbers) {
  EXPECT_EQ(NationalSignificantNumber("+628123456789"), "8123456789");
  EXPECT_EQ(NationalSignificantNumber("+66812345678"), "812345678");
  EXPECT_EQ(NationalSignificantNumber("+12025550123"), "2025550123");     // 1 digit
  EXPECT_EQ(NationalSignificantNumber("+3903612345678"), "03612345678");  // Italy keeps its 0
  EXPECT_EQ(NationalSignificantNumber("+8801712345678"), "1712345678");   // 3 digits
  // Agrees with a full parse for what the directory stores.
  PhoneNormalizer normalizer;
  const std::pair<const char*, const char*> typed[] = {
      {"0812-3456-789", "ID"}, {"+62 21 555 0123", "ID"}, {"081 234 5678", "TH"}};
  for (const auto& [raw, region] : typed) {
    auto parsed = normalizer.Normalize(raw, region);
    ASSERT_TRUE(parsed.ok()) << raw;
    EXPECT_EQ(NationalSignificantNumber(parsed->e164), parsed->national_significant_number);
  }
  EXPECT_EQ(NationalSignificantNumber(""), "");
  EXPECT_EQ(NationalSignificantNumber("628123"), "");
  EXPECT_EQ(NationalSignificantNumber("+62x"), "");
  EXPECT_EQ(NationalSignificantNumber("+"), "");
}

}  // namespace
}  // namespace kelola::phone
