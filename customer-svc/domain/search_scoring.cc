#include "customer-svc/domain/search_scoring.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kelola::customer::domain {
namespace {

absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

WordScorer::WordScorer(const std::vector<std::string>& words, double threshold)
    : joined_(absl::StrJoin(words, " ")), threshold_(threshold) {
  for (const std::string& w : words) query_words_.emplace_back(w);
  known_.resize(query_words_.size());
}

FieldScore WordScorer::Score(std::string_view field_words) {
  FieldScore out;
  if (query_words_.empty() || field_words.empty()) return out;
  if (joined_ == field_words) return {1.0, true};
  std::vector<absl::string_view> words = absl::StrSplit(Av(field_words), ' ', absl::SkipEmpty());
  double sum = 0;
  for (size_t i = 0; i < query_words_.size(); ++i) {
    double best = 0;
    for (absl::string_view w : words) best = std::max(best, Remembered(i, Sv(w)));
    if (best <= 0) return out;
    sum += best;
  }
  out.score = std::min(0.99, sum / static_cast<double>(query_words_.size()));
  return out;
}

double WordScorer::Remembered(size_t i, std::string_view w) {
  auto [it, inserted] = known_[i].try_emplace(Av(w), 0.0);
  if (inserted) it->second = WordScore(query_words_[i], w, threshold_);
  return it->second;
}

FieldScore ScorePhone(const std::vector<std::string>& keys, std::string_view national) {
  FieldScore best;
  for (const auto& key : keys) {
    const double ratio = static_cast<double>(key.size()) / static_cast<double>(national.size());
    FieldScore s;
    if (national == key) {
      s = {1.0, true};
    } else if (national.compare(0, key.size(), key) == 0) {
      s = {0.75 + 0.2 * ratio, false};
    } else if (national.find(key) != std::string_view::npos) {
      s = {0.5 + 0.2 * ratio, false};
    }
    if (s.score > best.score) best = s;
  }
  return best;
}

FieldScore ScoreEmail(std::string_view query, std::string_view email) {
  if (query.empty() || email.empty()) return {};
  if (email == query) return {1.0, true};
  if (email.compare(0, query.size(), query) == 0) {
    return {0.6 + 0.3 * static_cast<double>(query.size()) / static_cast<double>(email.size()),
            false};
  }
  return {};
}

SearchScorer::SearchScorer(std::string folded, std::vector<std::string> phone_keys,
                           double threshold)
    : folded_(std::move(folded)),
      keys_(std::move(phone_keys)),
      words_(SearchWords(folded_)),
      names_(words_, threshold) {}

std::vector<ScoredMatch> SearchScorer::Score(const SearchFields& fields) {
  std::vector<ScoredMatch> matches;
  const FieldScore name = names_.Score(fields.name_words);
  if (name.score > 0) {
    matches.push_back({v1::SEARCH_FIELD_DISPLAY_NAME, "", name.exact, name.score});
  }
  const FieldScore company = names_.Score(fields.company_words);
  if (company.score > 0) {
    matches.push_back({v1::SEARCH_FIELD_COMPANY_NAME, "", company.exact, company.score});
  }
  for (const SearchPhone& p : fields.phones) {
    const FieldScore ps = ScorePhone(keys_, p.national);
    if (ps.score > 0) {
      matches.push_back(
          {p.position == 0 ? v1::SEARCH_FIELD_PHONE : v1::SEARCH_FIELD_ADDITIONAL_PHONE,
           std::string(p.e164), ps.exact, ps.score});
    }
  }
  if (keys_.empty()) {
    const FieldScore es = ScoreEmail(folded_, fields.email);
    if (es.score > 0) {
      matches.push_back({v1::SEARCH_FIELD_EMAIL, std::string(fields.email), es.exact, es.score});
    }
  }
  std::sort(matches.begin(), matches.end(), [](const ScoredMatch& a, const ScoredMatch& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.field < b.field;
  });
  return matches;
}

TermCandidates::TermCandidates(std::string_view query_word, double threshold)
    : query_(query_word), threshold_(threshold) {
  if (query_.code_points < 3) return;
  for (const auto& g : query_.trigrams) {
    if (g.compare(0, 2, "  ") != 0) lookup_grams_.push_back(g);
  }
}

void TermCandidates::AddPrefixWord(std::string_view word) {
  const double s = WordScore(query_, word, threshold_);
  if (s > 0) scored_[Av(word)] = s;
}

void TermCandidates::AddGramWord(std::string_view word, int64_t common) {
  if (scored_.contains(Av(word))) return;
  const double common_upper = static_cast<double>(common) + 1;
  // Jaccard <= common / |query grams| (the word-start gram may be shared too, hence + 1).
  const double query_grams = static_cast<double>(query_.trigrams.size());
  if (common_upper < threshold_ * query_grams && word.find(query_.text) == std::string_view::npos) {
    return;
  }
  const double s = WordScore(query_, word, threshold_);
  if (s > 0) scored_[Av(word)] = s;
}

std::vector<TermCandidate> TermCandidates::Best() const {
  std::vector<TermCandidate> out;
  out.reserve(scored_.size());
  for (const auto& [term, score] : scored_) out.push_back({term, score});
  std::sort(out.begin(), out.end(), [](const TermCandidate& a, const TermCandidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.term < b.term;
  });
  if (out.size() > kTermsPerWord) out.resize(kTermsPerWord);
  return out;
}

}  // namespace kelola::customer::domain
