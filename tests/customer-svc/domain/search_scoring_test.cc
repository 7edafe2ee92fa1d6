// Quick search's relevance as pure functions: name fields, phones, emails, the matches of
// one customer, and the vocabulary words a query word may mean.

#include "customer-svc/domain/search_scoring.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/text/normalize.h"

namespace kelola::customer::domain {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Field;

TEST(WordScorerTest, ExactFieldIsOneAndExact) {
  WordScorer scorer({"budi", "santoso"}, 0.3);
  const FieldScore s = scorer.Score("budi santoso");
  EXPECT_EQ(s.score, 1.0);
  EXPECT_TRUE(s.exact);
}

TEST(WordScorerTest, EveryQueryWordMustMatchSomeWord) {
  WordScorer scorer({"budi", "zzzz"}, 0.3);
  EXPECT_EQ(scorer.Score("budi santoso").score, 0);
  EXPECT_EQ(scorer.Score("").score, 0);
  WordScorer none({}, 0.3);
  EXPECT_EQ(none.Score("budi").score, 0);
}

TEST(WordScorerTest, MeanOfBestWordScoresCappedBelowOne) {
  // Same words in another order: each word scores 1, the mean is capped at 0.99.
  WordScorer reordered({"santoso", "budi"}, 0.3);
  const FieldScore s = reordered.Score("budi santoso");
  EXPECT_EQ(s.score, 0.99);
  EXPECT_FALSE(s.exact);
  // "bud" is a prefix of "budi": 0.6 + 0.3 * 3/4; "santoso" exact: 1.
  WordScorer prefix({"bud", "santoso"}, 0.3);
  EXPECT_THAT(prefix.Score("budi santoso").score, DoubleNear((0.825 + 1.0) / 2, 1e-12));
  // Asking twice gives the same (remembered) result.
  EXPECT_THAT(prefix.Score("budi santoso").score, DoubleNear((0.825 + 1.0) / 2, 1e-12));
}

TEST(WordScorerTest, TyposScoreThroughTrigramSimilarity) {
  WordScorer scorer({"santosa"}, 0.3);
  const FieldScore s = scorer.Score("budi santoso");
  EXPECT_GT(s.score, 0);
  EXPECT_LT(s.score, 0.6);
  WordScorer strict({"santosa"}, 0.9);
  EXPECT_EQ(strict.Score("budi santoso").score, 0);
}

TEST(ScorePhoneTest, ExactPrefixAndInside) {
  const std::string national = "8123456789";
  EXPECT_EQ(ScorePhone({"8123456789"}, national).score, 1.0);
  EXPECT_TRUE(ScorePhone({"8123456789"}, national).exact);
  EXPECT_THAT(ScorePhone({"812"}, national).score, DoubleNear(0.75 + 0.2 * 0.3, 1e-12));
  EXPECT_THAT(ScorePhone({"3456"}, national).score, DoubleNear(0.5 + 0.2 * 0.4, 1e-12));
  EXPECT_FALSE(ScorePhone({"3456"}, national).exact);
  EXPECT_EQ(ScorePhone({"999"}, national).score, 0);
  EXPECT_EQ(ScorePhone({}, national).score, 0);
  // The best of several keys.
  EXPECT_EQ(ScorePhone({"3456", "8123456789"}, national).score, 1.0);
}

TEST(ScoreEmailTest, ExactOrPrefixOnly) {
  EXPECT_EQ(ScoreEmail("siti@yahoo.co.id", "siti@yahoo.co.id").score, 1.0);
  EXPECT_TRUE(ScoreEmail("siti@yahoo.co.id", "siti@yahoo.co.id").exact);
  EXPECT_THAT(ScoreEmail("siti", "siti@yahoo.co.id").score,
              DoubleNear(0.6 + 0.3 * 4 / 16.0, 1e-12));
  EXPECT_EQ(ScoreEmail("yahoo", "siti@yahoo.co.id").score, 0);
  EXPECT_EQ(ScoreEmail("", "siti@yahoo.co.id").score, 0);
  EXPECT_EQ(ScoreEmail("siti", "").score, 0);
}

TEST(SearchScorerTest, NameQueryMatchesNamesCompanyAndEmailBestFirst) {
  SearchScorer scorer(text::FoldForMatch("Siti"), {}, 0.3);
  EXPECT_THAT(scorer.words(), ElementsAre("siti"));
  const std::vector<SearchPhone> phones = {{0, "+628139876543", "8139876543"}};
  const auto matches = scorer.Score({"siti nurhaliza", "siti jaya", phones, "siti@yahoo.co.id"});
  ASSERT_EQ(matches.size(), 3u);
  // Name and company score alike: the field order breaks the tie.
  EXPECT_EQ(matches[0].field, v1::SEARCH_FIELD_DISPLAY_NAME);
  EXPECT_EQ(matches[1].field, v1::SEARCH_FIELD_COMPANY_NAME);
  EXPECT_EQ(matches[2].field, v1::SEARCH_FIELD_EMAIL);
  EXPECT_EQ(matches[2].value, "siti@yahoo.co.id");
  EXPECT_TRUE(matches[0].value.empty());
  EXPECT_TRUE(scorer.Score({"budi", "", {}, ""}).empty());
}

TEST(SearchScorerTest, PhoneQueryMatchesPhonesOnly) {
  SearchScorer scorer("0812", {"812"}, 0.3);
  const std::vector<SearchPhone> phones = {{0, "+62215550123", "215550123"},
                                           {1, "+628123456789", "8123456789"}};
  const auto matches = scorer.Score({"budi", "", phones, "812@example.com"});
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].field, v1::SEARCH_FIELD_ADDITIONAL_PHONE);
  EXPECT_EQ(matches[0].value, "+628123456789");
  EXPECT_FALSE(matches[0].exact);
}

TEST(RelevanceBeforeTest, ScoreThenId) {
  EXPECT_TRUE(RelevanceBefore(0.9, "b", 0.8, "a"));
  EXPECT_TRUE(RelevanceBefore(0.9, "a", 0.9, "b"));
  EXPECT_FALSE(RelevanceBefore(0.9, "b", 0.9, "a"));
  EXPECT_FALSE(RelevanceBefore(0.9, "a", 0.9, "a"));
}

TEST(TermCandidatesTest, ShortWordsUsePrefixesOnly) {
  TermCandidates candidates("bu", 0.3);
  EXPECT_TRUE(candidates.lookup_grams().empty());
  candidates.AddPrefixWord("budi");
  candidates.AddPrefixWord("budiman");
  EXPECT_THAT(candidates.Best(), ElementsAre(Field(&TermCandidate::term, "budi"),
                                             Field(&TermCandidate::term, "budiman")));
}

TEST(TermCandidatesTest, GramWordsLeaveOutTheWordStartGram) {
  TermCandidates candidates("santoso", 0.3);
  for (const auto& g : candidates.lookup_grams()) EXPECT_NE(g.substr(0, 2), "  ") << g;
  EXPECT_FALSE(candidates.lookup_grams().empty());
  candidates.AddPrefixWord("santoso");
  candidates.AddGramWord("santosa", 5);
  // Too few shared grams to reach the threshold, and not containing the query: skipped.
  candidates.AddGramWord("santo", 1);
  candidates.AddGramWord("wijaya", 1);
  const auto best = candidates.Best();
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].term, "santoso");
  EXPECT_EQ(best[0].score, 1.0);
  EXPECT_EQ(best[1].term, "santosa");
  EXPECT_GT(best[1].score, 0);
}

TEST(TermCandidatesTest, ContainingWordsScoreWhateverTheirGramCount) {
  // Thai is written without spaces: "ชาย" inside "สมชาย".
  TermCandidates candidates(text::FoldForMatch("ชาย"), 0.3);
  candidates.AddGramWord(text::FoldForMatch("สมชาย"), 1);
  const auto best = candidates.Best();
  ASSERT_EQ(best.size(), 1u);
  EXPECT_THAT(best[0].score, DoubleNear(0.4 + 0.3 * 3 / 5.0, 1e-12));
}

TEST(TermCandidatesTest, AtMostTermsPerWordBestFirstThenByWord) {
  TermCandidates candidates("abc", 0.3);
  for (int i = 0; i < kTermsPerWord + 10; ++i) {
    candidates.AddPrefixWord("abc" + std::string(1 + i % 7, 'x') + std::to_string(i));
  }
  const auto best = candidates.Best();
  ASSERT_EQ(best.size(), static_cast<size_t>(kTermsPerWord));
  for (size_t i = 1; i < best.size(); ++i) {
    EXPECT_TRUE(best[i - 1].score > best[i].score ||
                (best[i - 1].score == best[i].score && best[i - 1].term < best[i].term));
  }
}

}  // namespace
}  // namespace kelola::customer::domain
