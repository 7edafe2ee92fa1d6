#pragma once

// Internal to customer-svc's query side: reads of the SQL search tables for one tenant.
// Postings and TermPostings read posting tables (search_terms and the others) joined to
// customers, so that only customers passing a listing's states and filter are returned;
// CandidateTerms reads the vocabulary (search_vocab, search_vocab_grams). Used by the SQL
// search and by the duplicate finder.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/search_scoring.h"
#include "customer-svc/store/query_sql.h"
#include "libs/db/database.h"

namespace kelola::customer::store::search_postings {

// Upper bound for prefix ranges over UTF-8 text compared bytewise: U+10FFFF.
inline constexpr char kMaxCodePoint[] = "\xf4\x8f\xbf\xbf";

// What the reads of one search bind: the tenant, the listed states, the filter and the
// similarity a vocabulary word needs to stand for a query word.
struct SearchContext {
  db::Transaction& tx;
  const std::string& tenant;
  const std::vector<int64_t>& states;
  const domain::ListFilter& filter;
  const query_sql::FilterContext& ctx;
  double threshold;
};

// Customer ids from `table` p (with p.customer_id) whose customer passes the state and
// filter, for the condition `where` on p, in (order) order, at most `limit`.
absl::StatusOr<std::vector<std::string>> Postings(const SearchContext& sc, absl::string_view table,
                                                  absl::string_view where,
                                                  std::vector<db::Value> where_params,
                                                  absl::string_view order, int64_t limit);

// Postings of several search_terms words in one statement: for each word, at most `limit`
// customer ids (passing state and filter) in customer_id order; result i for terms[i].
absl::StatusOr<std::vector<std::vector<std::string>>> TermPostings(
    const SearchContext& sc, const std::vector<std::string>& terms, int64_t limit);

// Vocabulary words that query word `q` may mean, best first (at most domain::kTermsPerWord).
absl::StatusOr<std::vector<domain::TermCandidate>> CandidateTerms(const SearchContext& sc,
                                                                  const std::string& q);

}  // namespace kelola::customer::store::search_postings
