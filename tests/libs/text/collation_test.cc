#include "libs/text/collation.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kelola::text {
namespace {

using ::testing::ElementsAreArray;

// Sorts `names` by their collation keys compared as plain bytes, as a database would.
std::vector<std::string> SortByKey(std::vector<std::string> names, const std::string& locale) {
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return CollationKey(a, locale) < CollationKey(b, locale);
  });
  return names;
}

TEST(CollationKeyTest, HexLowerCase) {
  std::string key = CollationKey("Budi", "id");
  ASSERT_FALSE(key.empty());
  EXPECT_EQ(key.size() % 2, 0u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(CollationKey("Budi", "id"), key);  // deterministic
}

TEST(CollationKeyTest, IndonesianNamesSortAToZ) {
  // Bytewise, "Budi" < "adi" and "Zaenal" < "agus"; the keys sort them like a person would.
  std::vector<std::string> names = {"Zaenal",  "agus",         "Budi",  "Ádi",  "adi", "Adi",
                                    "Budiman", "budi santoso", "Citra", "Çaka", "dewi"};
  EXPECT_THAT(SortByKey(names, "id"),
              ElementsAreArray({"adi", "Adi", "Ádi", "agus", "Budi", "budi santoso", "Budiman",
                                "Çaka", "Citra", "dewi", "Zaenal"}));
}

TEST(CollationKeyTest, CanonicallyEquivalentTextsHaveEqualKeys) {
  EXPECT_EQ(CollationKey("Jos\u00E9", "id"), CollationKey("Jose\u0301", "id"));
}

TEST(CollationKeyTest, ThaiNamesSortLikeADictionary) {
  // Leading vowels (เ แ โ ใ ไ) are sorted by the consonant that follows: "เกษม" goes under ก.
  // Bytewise, U+0E40 (เ) is after every consonant, so "เกษม" would come last.
  std::vector<std::string> names = {"สมชาย", "เกษม", "ขวัญ", "กมล", "ใจดี", "บุญมี", "อรุณ"};
  EXPECT_THAT(SortByKey(names, "th"),
              ElementsAreArray({"กมล", "เกษม", "ขวัญ", "ใจดี", "บุญมี", "สมชาย", "อรุณ"}));
  EXPECT_LT(CollationKey("เกษม", "th"), CollationKey("ขวัญ", "th"));
  EXPECT_GT(std::string("เกษม"), std::string("ขวัญ"));  // what a bytewise sort would do
}

TEST(CollationKeyTest, LocaleSpellings) {
  EXPECT_EQ(CollationKey("เกษม", "th-TH"), CollationKey("เกษม", "th"));
  EXPECT_EQ(CollationKey("เกษม", "th_TH"), CollationKey("เกษม", "th"));
  // Unknown locales fall back to the root collation instead of failing.
  EXPECT_FALSE(CollationKey("Budi", "xx-unknown").empty());
  EXPECT_FALSE(CollationKey("Budi", "").empty());
}

TEST(CollationKeyTest, EmptyTextSortsFirst) {
  EXPECT_LT(CollationKey("", "id"), CollationKey("a", "id"));
  EXPECT_LT(CollationKey("Budi", "id"), CollationKey("Budi Santoso", "id"));
}

TEST(CollationKeyTest, ConcurrentUse) {
  const std::string expected_id = CollationKey("Budi Santoso", "id");
  const std::string expected_th = CollationKey("สมชาย ใจดี", "th");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        if (CollationKey("Budi Santoso", "id") != expected_id) ++mismatches;
        if (CollationKey("สมชาย ใจดี", "th") != expected_th) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace kelola::text
