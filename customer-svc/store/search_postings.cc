#include "customer-svc/store/search_postings.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kelola::customer::store::search_postings {
namespace {

using db::Placeholders;
using db::Value;
using domain::TermCandidate;
using query_sql::AppendFilter;
using query_sql::AppendStates;
using query_sql::CollDefault;

// Searches join customer_stats only when the filter reads it: the join costs a lookup per
// posting.
std::string StatsJoin(const SearchContext& sc) {
  return query_sql::FilterReadsStats(sc.filter) ? " CROSS JOIN customer_stats s" : "";
}

std::string StatsJoinCondition(const SearchContext& sc) {
  return query_sql::FilterReadsStats(sc.filter)
             ? " AND s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id"
             : "";
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Postings(const SearchContext& sc, absl::string_view table,
                                                  absl::string_view where,
                                                  std::vector<Value> where_params,
                                                  absl::string_view order, int64_t limit) {
  std::vector<Value> params = {sc.tenant};
  for (auto& v : where_params) params.push_back(std::move(v));
  std::string sql = absl::StrCat("SELECT p.customer_id FROM ", table, " p CROSS JOIN customers c",
                                 StatsJoin(sc), " WHERE p.tenant_id = ? AND ", where,
                                 " AND c.tenant_id = p.tenant_id AND c.customer_id = p.customer_id",
                                 CollDefault(sc.tx), StatsJoinCondition(sc));
  AppendStates(sc.states, &sql, &params);
  AppendFilter(sc.filter, sc.ctx, &sql, &params);
  absl::StrAppend(&sql, " ORDER BY ", order, " LIMIT ?");
  params.emplace_back(limit);
  auto rows = sc.tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(r.GetText(0));
  return out;
}

absl::StatusOr<std::vector<std::vector<std::string>>> TermPostings(
    const SearchContext& sc, const std::vector<std::string>& terms, int64_t limit) {
  std::vector<std::vector<std::string>> out(terms.size());
  if (terms.empty()) return out;
  std::vector<Value> params;
  std::vector<std::string> parts;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string sql = absl::StrCat(
        "SELECT ", i, " AS k, t", i,
        ".customer_id FROM (SELECT p.customer_id FROM search_terms p CROSS JOIN customers c",
        StatsJoin(sc),
        " WHERE p.tenant_id = ? AND p.term = ? AND c.tenant_id = p.tenant_id AND c.customer_id "
        "= p.customer_id",
        CollDefault(sc.tx), StatsJoinCondition(sc));
    params.push_back(sc.tenant);
    params.push_back(terms[i]);
    AppendStates(sc.states, &sql, &params);
    AppendFilter(sc.filter, sc.ctx, &sql, &params);
    absl::StrAppend(&sql, " ORDER BY p.customer_id LIMIT ?) t", i);
    params.emplace_back(limit);
    parts.push_back(std::move(sql));
  }
  auto rows = sc.tx.Query(
      absl::StrCat(absl::StrJoin(parts, " UNION ALL "), " ORDER BY k, customer_id"), params);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows) {
    const int64_t k = r.GetInt(0);
    if (k >= 0 && k < static_cast<int64_t>(out.size())) out[k].push_back(r.GetText(1));
  }
  return out;
}

absl::StatusOr<std::vector<TermCandidate>> CandidateTerms(const SearchContext& sc,
                                                          const std::string& q) {
  domain::TermCandidates candidates(q, sc.threshold);
  auto prefix = sc.tx.Query(
      "SELECT term FROM search_vocab WHERE tenant_id = ? AND term >= ? AND term < ? ORDER BY "
      "term LIMIT ?",
      {sc.tenant, q, absl::StrCat(q, kMaxCodePoint),
       static_cast<int64_t>(domain::kPrefixTermsScanned)});
  if (!prefix.ok()) return prefix.status();
  for (const auto& r : *prefix) candidates.AddPrefixWord(r.GetText(0));
  // Substring and spelling-variant matches through the trigrams of vocabulary words.
  const std::vector<std::string>& used = candidates.lookup_grams();
  if (!used.empty()) {
    std::vector<Value> params = {sc.tenant};
    for (const auto& g : used) params.push_back(g);
    auto rows = sc.tx.Query(absl::StrCat("SELECT term, COUNT(*) FROM search_vocab_grams WHERE "
                                         "tenant_id = ? AND gram IN (",
                                         Placeholders(used.size()), ") GROUP BY term"),
                            params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) candidates.AddGramWord(r.GetText(0), r.GetInt(1));
  }
  return candidates.Best();
}

}  // namespace kelola::customer::store::search_postings
