#pragma once

// Relevance of quick search (C11) as pure functions: how one customer's indexed fields score
// against a query, and which vocabulary words a query word may mean. The in-memory index
// (search_index.h) ranks through these. No SQL, no I/O.
//
// Inputs are folded (text::FoldForMatch): field words are SearchWords joined by one space,
// emails folded, phones as their searchable national numbers (phone::SearchableNationalNumber).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "customer-svc/domain/search_text.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::domain {

// At most this many vocabulary words stand for one query word (TermCandidates::Best).
inline constexpr int kTermsPerWord = 32;
// A query word's prefix range of the vocabulary is read this far (in word order).
inline constexpr int kPrefixTermsScanned = 200;

struct FieldScore {
  double score = 0;  // [0, 1]; 0 = no match
  bool exact = false;
};

// Scores name fields against a search's words, prepared once per search. Every query word must
// match a word of the field (WordScore > 0); the score is the mean of the best word scores,
// capped at 0.99, and 1 (exact) when the field equals the query words. Word scores are
// remembered, since names repeat across candidates: one scorer per search, one thread.
class WordScorer {
 public:
  WordScorer(const std::vector<std::string>& words, double threshold);

  FieldScore Score(std::string_view field_words);

 private:
  double Remembered(size_t i, std::string_view w);

  std::vector<QueryWord> query_words_;
  const std::string joined_;
  const double threshold_;
  std::vector<absl::flat_hash_map<std::string, double>> known_;
};

// The best of the phone query keys against one stored national number: 1 (exact) equal,
// 0.75 + 0.2 * |key|/|national| when the number starts with the key, 0.5 + 0.2 * ratio when it
// contains it, else 0.
FieldScore ScorePhone(const std::vector<std::string>& keys, std::string_view national);

// The folded query against a folded email: 1 (exact) equal, 0.6 + 0.3 * |query|/|email| when
// the email starts with it, else 0.
FieldScore ScoreEmail(std::string_view query, std::string_view email);

struct SearchPhone {
  int position = 0;  // 0 = the primary phone, then additional phones in stored order
  std::string_view e164;
  std::string_view national;  // searchable national number
};

// What search scores of one customer (the index document).
struct SearchFields {
  std::string_view name_words;
  std::string_view company_words;
  absl::Span<const SearchPhone> phones;
  std::string_view email;
};

struct ScoredMatch {
  v1::SearchField field = v1::SEARCH_FIELD_UNSPECIFIED;
  std::string value;  // phone E.164 or folded email; empty for names (filled from the row)
  bool exact = false;
  double score = 0;
};

// Scores customers against one search. A phone query (non-empty `phone_keys`) matches phones
// only; any other query matches names, company and email.
class SearchScorer {
 public:
  // `folded`: the folded query; `phone_keys`: PhoneNormalizer::SearchKeys of the query.
  SearchScorer(std::string folded, std::vector<std::string> phone_keys, double threshold);

  // The matching fields of a customer, best first (score desc, then field); empty if none.
  std::vector<ScoredMatch> Score(const SearchFields& fields);

  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::string>& phone_keys() const { return keys_; }

 private:
  const std::string folded_;
  const std::vector<std::string> keys_;
  const std::vector<std::string> words_;
  WordScorer names_;
};

// Relevance order of hits: higher score first, then customer id ascending (bytewise). The
// ids come from calling `id_a` and `id_b`, on equal scores only: where ids lie at random
// places in memory, most comparisons then read none.
template <typename IdA, typename IdB>
bool RelevanceBeforeById(double score_a, const IdA& id_a, double score_b, const IdB& id_b) {
  if (score_a != score_b) return score_a > score_b;
  return std::string_view(id_a()) < std::string_view(id_b());
}

inline bool RelevanceBefore(double score_a, std::string_view id_a, double score_b,
                            std::string_view id_b) {
  return RelevanceBeforeById(
      score_a, [&] { return id_a; }, score_b, [&] { return id_b; });
}

struct TermCandidate {
  std::string term;
  double score = 0;
};

// The vocabulary words one query word may mean, from two lookups the caller makes in its
// vocabulary: the words of the prefix range [q, q + U+10FFFF) in order (at most
// kPrefixTermsScanned), then, for a word of three code points or more, every word sharing one
// of lookup_grams() with its count of shared grams.
class TermCandidates {
 public:
  TermCandidates(std::string_view query_word, double threshold);

  const QueryWord& query() const { return query_; }
  // The query word's trigrams without the word-start one ("  x", which would select every word
  // with the same first letter; it still counts in the similarity). Empty below three code
  // points: no gram lookup then.
  const std::vector<std::string>& lookup_grams() const { return lookup_grams_; }

  void AddPrefixWord(std::string_view word);
  // A word holding `common` of lookup_grams(). Words that cannot reach the similarity
  // threshold and do not contain the query are skipped without scoring.
  void AddGramWord(std::string_view word, int64_t common);

  // Best first (score desc, then word), at most kTermsPerWord.
  std::vector<TermCandidate> Best() const;

 private:
  const QueryWord query_;
  const double threshold_;
  std::vector<std::string> lookup_grams_;
  absl::flat_hash_map<std::string, double> scored_;
};

}  // namespace kelola::customer::domain
