#include "libs/utf8/utf8.h"

#include "gtest/gtest.h"

namespace kelola::utf8 {
namespace {

TEST(SequenceLengthTest, WellFormedSequencesOfEveryLength) {
  EXPECT_EQ(SequenceLength("a"), 1u);
  EXPECT_EQ(SequenceLength("\xC3\xA9x"), 2u);         // é
  EXPECT_EQ(SequenceLength("\xE0\xB8\x81"), 3u);      // Thai ko kai
  EXPECT_EQ(SequenceLength("\xF0\x9F\x98\x80"), 4u);  // emoji
  EXPECT_EQ(SequenceLength("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
}

TEST(SequenceLengthTest, RefusesWhatRfc3629Forbids) {
  EXPECT_EQ(SequenceLength(""), 0u);
  EXPECT_EQ(SequenceLength("\x80"), 0u);              // a lone continuation byte
  EXPECT_EQ(SequenceLength("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(SequenceLength("\xE0\x80\xAF"), 0u);      // overlong, three bytes
  EXPECT_EQ(SequenceLength("\xED\xA0\x80"), 0u);      // a surrogate
  EXPECT_EQ(SequenceLength("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(SequenceLength("\xE0\xB8"), 0u);          // cut short
  EXPECT_EQ(SequenceLength("\xE0\xB8x"), 0u);         // not a continuation
}

TEST(SequenceLengthTest, ThaiTextCutAtEveryBytePosition) {
  const std::string thai = "\xE0\xB8\xAA\xE0\xB8\xA1\xE0\xB8\x8A\xE0\xB8\xB2\xE0\xB8\xA2";  // สมชาย
  for (size_t cut = 0; cut < thai.size(); ++cut) {
    const size_t length = SequenceLength(absl::string_view(thai).substr(cut));
    EXPECT_EQ(length, cut % 3 == 0 ? 3u : 0u) << cut;
  }
}

}  // namespace
}  // namespace kelola::utf8
