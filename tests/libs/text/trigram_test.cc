#include "libs/text/trigram.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/text/normalize.h"

namespace kelola::text {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

bool IsSubset(const std::vector<std::string>& small, const std::vector<std::string>& big) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

TEST(TrigramsTest, PaddedLikePgTrgm) {
  EXPECT_THAT(Trigrams("budi"), ElementsAre("  b", " bu", "bud", "di ", "udi"));
  EXPECT_THAT(Trigrams("a"), ElementsAre("  a", " a "));
  EXPECT_THAT(Trigrams(""), IsEmpty());
  EXPECT_THAT(Trigrams("  "), IsEmpty());
  // Punctuation separates words and never appears in a trigram.
  EXPECT_EQ(Trigrams("o'neil"), Trigrams("o neil"));
  // Duplicates removed, words never joined.
  EXPECT_EQ(Trigrams("ana ana"), Trigrams("ana"));
}

TEST(TrigramsTest, CodePointsNotBytes) {
  // Thai: 3 bytes per code point; marks stay inside the word.
  std::vector<std::string> t = Trigrams("ใจดี");
  EXPECT_THAT(t, ElementsAre("  ใ", " ใจ", "จดี", "ดี ", "ใจด"));
  for (const std::string& trigram : t) EXPECT_EQ(CodePointCount(trigram), 3u) << trigram;
}

TEST(TrigramsTest, SubstringTrigramsAreUnpadded) {
  EXPECT_THAT(SubstringTrigrams("budi"), ElementsAre("bud", "udi"));
  EXPECT_THAT(SubstringTrigrams("bu di"), IsEmpty());
  EXPECT_THAT(SubstringTrigrams("ใจดี"), ElementsAre("จดี", "ใจด"));
}

TEST(TrigramsTest, ThaiNameMatchesSubstringQueries) {
  const std::string stored = FoldForMatch("สมชาย ใจดี");
  ASSERT_EQ(stored, "สมชาย ใจดี");
  const std::vector<std::string> index = Trigrams(stored);
  // A whole word: even its padded trigrams are present.
  EXPECT_TRUE(IsSubset(Trigrams(FoldForMatch("ใจดี")), index));
  EXPECT_TRUE(IsSubset(SubstringTrigrams(FoldForMatch("ใจดี")), index));
  // Parts of a word (Thai has no spaces between words): substring trigrams.
  for (const char* part : {"ชาย", "มชา", "สมชาย ใจ", "าย ใจดี", "จดี"}) {
    std::string q = FoldForMatch(part);
    EXPECT_NE(stored.find(q), std::string::npos) << part;
    EXPECT_TRUE(IsSubset(SubstringTrigrams(q), index)) << part;
  }
  // Something else does not.
  EXPECT_FALSE(IsSubset(SubstringTrigrams(FoldForMatch("สมศรี")), index));
}

TEST(TrigramsTest, SubstringPropertyHoldsForEverySubstring) {
  for (const char* text : {"budi santoso", "สมชาย ใจดี", "jose o'neil-wijaya", "สำราญ ดีมาก"}) {
    const std::string folded = FoldForMatch(text);
    const std::vector<std::string> index = Trigrams(folded);
    // Every substring on code point boundaries.
    std::vector<size_t> cuts;
    for (size_t i = 0; i <= folded.size(); ++i) {
      if (i == folded.size() || (static_cast<unsigned char>(folded[i]) & 0xC0) != 0x80) {
        cuts.push_back(i);
      }
    }
    for (size_t a = 0; a < cuts.size(); ++a) {
      for (size_t b = a + 1; b < cuts.size(); ++b) {
        std::string q = folded.substr(cuts[a], cuts[b] - cuts[a]);
        EXPECT_TRUE(IsSubset(SubstringTrigrams(q), index)) << text << " / " << q;
      }
    }
  }
}

TEST(TrigramSimilarityTest, IdenticalAfterFolding) {
  EXPECT_DOUBLE_EQ(TrigramSimilarity("José", "jose"), 1.0);
  EXPECT_DOUBLE_EQ(TrigramSimilarity("  BUDI   santoso", "Budi Santoso"), 1.0);
  EXPECT_DOUBLE_EQ(TrigramSimilarity("สมชาย ใจดี", "สมชาย ใจดี"), 1.0);
  EXPECT_DOUBLE_EQ(TrigramSimilarity("", ""), 0.0);
}

TEST(TrigramSimilarityTest, OneLetterTyposAboveThreshold) {
  // Documented value: 11 common trigrams of 15.
  EXPECT_NEAR(TrigramSimilarity("Budi Santoso", "Budi Santosa"), 11.0 / 15.0, 1e-12);
  EXPECT_GE(TrigramSimilarity("Budi Santoso", "Budi Santosa"), kDefaultSimilarityThreshold);
  EXPECT_GE(TrigramSimilarity("Siti Rahayu", "Siti Rahayu"), kDefaultSimilarityThreshold);
  EXPECT_GE(TrigramSimilarity("Siti Rahayu", "Siti Rahyu"), kDefaultSimilarityThreshold);
  EXPECT_GE(TrigramSimilarity("Ahmad Hidayat", "Achmad Hidayat"), kDefaultSimilarityThreshold);
  EXPECT_GE(TrigramSimilarity("Ani", "Any"), kDefaultSimilarityThreshold);
  EXPECT_GE(TrigramSimilarity("สมชาย ใจดี", "สมชาย ใจด"), kDefaultSimilarityThreshold);
  // Word order barely matters.
  EXPECT_GE(TrigramSimilarity("Santoso Budi", "Budi Santoso"), 0.9);
}

TEST(TrigramSimilarityTest, DifferentNamesBelowThreshold) {
  EXPECT_LT(TrigramSimilarity("Budi Santoso", "Siti Rahayu"), kDefaultSimilarityThreshold);
  EXPECT_LT(TrigramSimilarity("สมชาย ใจดี", "วิไล ทองดี"), kDefaultSimilarityThreshold);
  EXPECT_DOUBLE_EQ(TrigramSimilarity("budi", ""), 0.0);
}

TEST(TrigramSimilarityTest, SymmetricAndBounded) {
  const char* names[] = {"Budi", "Budi Santoso", "José", "สมชาย ใจดี", "", "a"};
  for (const char* a : names) {
    for (const char* b : names) {
      double s = TrigramSimilarity(a, b);
      EXPECT_DOUBLE_EQ(s, TrigramSimilarity(b, a));
      EXPECT_GE(s, 0.0);
      EXPECT_LE(s, 1.0);
    }
  }
}

TEST(TrigramCodesTest, OneCodePerTrigramOfTheWords) {
  // "ab" padded: "  a", " ab", "ab " -- three trigrams of code points, first highest.
  const uint64_t a = 'a', b = 'b', space = ' ';
  EXPECT_THAT(TrigramCodesOf("ab"),
              ElementsAre(space << 42 | space << 21 | a, space << 42 | a << 21 | b,
                          a << 42 | b << 21 | space));
  EXPECT_THAT(TrigramCodesOf(""), IsEmpty());
  EXPECT_THAT(TrigramCodesOf(" -- "), IsEmpty());
}

// The codes are the strings' trigrams one for one: the same count for every text and the
// same similarity for every pair, over Indonesian and Thai names, marks, digits,
// punctuation, repeated words and invalid UTF-8.
TEST(TrigramCodesTest, SameSetsAsTheStrings) {
  const std::vector<std::string> texts = {"",
                                          "a",
                                          "ab",
                                          "budi",
                                          "budi santoso",
                                          "santoso budi",
                                          "budi budi",
                                          "bu di",
                                          "sri-rahayu",
                                          "a.b.c",
                                          "0812 3456",
                                          "josé",
                                          "สมชาย ใจดี",
                                          "สมชาย",
                                          "ชาย",
                                          "นางสาว วิไล",
                                          "ก่ข้",
                                          "abc\xff\xfe"
                                          "abc",
                                          "aaaa",
                                          "aaa aaa",
                                          "x y z",
                                          "ภ",
                                          "ṡ̀ṡ̀",
                                          "anii"};
  for (const std::string& raw : texts) {
    const std::string a = FoldForMatch(raw);
    EXPECT_EQ(TrigramCodesOf(a).size(), Trigrams(a).size()) << raw;
    for (const std::string& other : texts) {
      const std::string b = FoldForMatch(other);
      EXPECT_DOUBLE_EQ(TrigramCodeSimilarity(TrigramCodesOf(a), TrigramCodesOf(b)),
                       TrigramSetSimilarity(Trigrams(a), Trigrams(b)))
          << raw << " / " << other;
    }
  }
}

}  // namespace
}  // namespace kelola::text
