#include "libs/csv/neutralize.h"

#include "gtest/gtest.h"

namespace kelola::csv {
namespace {

TEST(NeutralizeTest, TriggerCharacters) {
  for (absl::string_view cell : {"=1", "+1", "-1", "@x", "\tx", "\rx", "=",
                                 "\xEF\xBC\x9D"
                                 "1",
                                 "\xEF\xBC\x8B"
                                 "1",
                                 "\xEF\xBC\x8D"
                                 "1",
                                 "\xEF\xBC\xA0"
                                 "x"}) {
    EXPECT_TRUE(NeedsNeutralization(cell)) << cell;
    EXPECT_EQ(Neutralize(cell), std::string("'") + std::string(cell));
    EXPECT_EQ(StripNeutralization(Neutralize(cell)), cell);
  }
  for (absl::string_view cell : {"", "a=1", " =1", "'=1", "0812", "สมชาย", "\xEF\xBC\xA1"}) {
    EXPECT_FALSE(NeedsNeutralization(cell)) << cell;
    EXPECT_EQ(Neutralize(cell), cell);
  }
}

TEST(NeutralizeTest, StripLeavesOtherApostrophesAlone) {
  EXPECT_EQ(StripNeutralization("'abc"), "'abc");
  EXPECT_EQ(StripNeutralization("'"), "'");
  EXPECT_EQ(StripNeutralization("''=1"), "''=1");
  EXPECT_EQ(StripNeutralization("'+62812"), "+62812");
}

TEST(NeutralizeTest, PlainNumbers) {
  for (absl::string_view n : {"0", "-5000", "1234.50", "007", "-0.5"}) {
    EXPECT_TRUE(IsPlainNumber(n)) << n;
  }
  for (absl::string_view n : {"", "-", "+5", "1.", ".5", "1e5", "1,5", "1.2.3", "-1+2", " 1"}) {
    EXPECT_FALSE(IsPlainNumber(n)) << n;
  }
}

}  // namespace
}  // namespace kelola::csv
