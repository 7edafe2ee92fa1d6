// CustomerQuery::Search (C11): quick search over names, phones and email, from the tenant's
// index in memory when it is loaded, else from the SQL search tables; by relevance or in a
// list order, keyset-paginated.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/domain/search_scoring.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/query_paging.h"
#include "customer-svc/store/query_sql.h"
#include "customer-svc/store/search_postings.h"
#include "customer-svc/store/search_tables.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/text/normalize.h"

namespace kelola::customer::store {
namespace {

using db::Placeholders;
using db::Value;
using domain::ListFilter;
using domain::ListOrder;
using domain::SearchScorer;
using domain::TermCandidate;
using query_sql::FilterContext;
using query_sql::kIdsPerStatement;
using query_sql::SortSpec;
using query_sql::Sv;
using search_postings::kMaxCodePoint;
using search_postings::SearchContext;

constexpr int kMaxQueryChars = 200;

// A search hit's position in the requested order.
struct Ranked {
  double score = 0;
  std::string text_key;
  int64_t int_key = 0;
  std::string id;
  size_t index = 0;  // into the hits
};

// A search result on the wire, bounded from above: the customer, its score and matches.
size_t SearchHitBytes(const SearchHit& hit) {
  size_t bytes = query_paging::PageItemBytes(hit.data.size()) + 16;
  for (const SearchMatchInfo& m : hit.matches) bytes += m.value.size() + 16;
  return bytes;
}

// --- The SQL search ---

// Candidate customer ids in the order first found, each once.
class Candidates {
 public:
  void Add(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      if (seen_.insert(id).second) ids_.push_back(id);
    }
  }
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  std::vector<std::string> ids_;
  absl::flat_hash_set<std::string> seen_;
};

// Customers whose phones hold one of the phone search `keys`: whole numbers first, then
// substrings; at most `budget` per key and kind.
absl::Status AddPhoneCandidates(const SearchContext& sc, const std::vector<std::string>& keys,
                                int budget, Candidates* candidates) {
  const std::string coll = query_sql::CollC(sc.tx);
  for (const auto& key : keys) {
    for (int64_t whole : {1, 0}) {
      auto ids = search_postings::Postings(
          sc, "search_phones", "p.whole = ? AND p.suffix >= ? AND p.suffix < ?",
          {whole, key, absl::StrCat(key, ":")},
          absl::StrCat("p.suffix", coll, ", p.customer_id", coll), budget);
      if (!ids.ok()) return ids.status();
      candidates->Add(*ids);
    }
  }
  return absl::OkStatus();
}

// The vocabulary readings of each query word, and which word drives the name search.
struct WordReadings {
  std::vector<std::vector<TermCandidate>> terms_per_word;
  size_t driver = 0;
};

// Reads the candidate terms of every query word; with several words, the driver is the word
// whose best readings have the fewest postings.
absl::StatusOr<WordReadings> ReadWordReadings(const SearchContext& sc,
                                              const std::vector<std::string>& words) {
  WordReadings out;
  int64_t driver_postings = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < words.size(); ++i) {
    auto terms = search_postings::CandidateTerms(sc, words[i]);
    if (!terms.ok()) return terms.status();
    if (words.size() > 1) {
      // How common the word's best readings are (bounded count), to pick the driver.
      std::vector<Value> params = {sc.tenant};
      const size_t n = std::min<size_t>(terms->size(), 4);
      for (size_t t = 0; t < n; ++t) params.push_back((*terms)[t].term);
      int64_t postings = 0;
      if (n > 0) {
        auto count = sc.tx.QueryOne(
            absl::StrCat("SELECT COUNT(*) FROM (SELECT 1 FROM search_terms WHERE tenant_id = ? "
                         "AND term IN (",
                         Placeholders(n), ") LIMIT 4004) x"),
            params);
        if (!count.ok()) return count.status();
        postings = count->GetInt(0);
      }
      if (postings < driver_postings) {
        out.driver = i;
        driver_postings = postings;
      }
    }
    out.terms_per_word.push_back(*std::move(terms));
  }
  return out;
}

// Names: the query word with the fewest postings drives; its candidate vocabulary words are
// visited best first, each contributing its postings in customer_id order.
absl::Status AddNameCandidates(const SearchContext& sc, const std::vector<std::string>& words,
                               int budget, Candidates* candidates) {
  auto readings_of = ReadWordReadings(sc, words);
  if (!readings_of.ok()) return readings_of.status();
  // Exact whole names (display or company) first, however common their words are; then
  // the driver's readings, best first, until the budget is spent. Readings are fetched in
  // growing groups (one statement each): common words fill the budget in the first group.
  const int limit = words.size() > 1 ? budget * 2 : budget;
  const std::vector<TermCandidate>& readings = readings_of->terms_per_word[readings_of->driver];
  int remaining = limit;
  size_t next = 0;
  for (size_t group = 4; remaining > 0 && (next == 0 || next < readings.size()); group *= 2) {
    std::vector<std::string> terms;
    if (next == 0) terms.push_back(search_tables::WholeKey(absl::StrJoin(words, " ")));
    const size_t first = next;
    for (; next < readings.size() && next < first + group; ++next) {
      terms.push_back(readings[next].term);
    }
    auto postings = search_postings::TermPostings(sc, terms, remaining);
    if (!postings.ok()) return postings.status();
    for (size_t i = 0; i < postings->size(); ++i) {
      std::vector<std::string>& ids = (*postings)[i];
      if (first == 0 && i == 0) {  // the whole-name key: its own budget
        if (static_cast<int>(ids.size()) > budget) ids.resize(budget);
        candidates->Add(ids);
        continue;
      }
      if (remaining <= 0) break;
      if (static_cast<int>(ids.size()) > remaining) ids.resize(remaining);
      remaining -= static_cast<int>(ids.size());
      candidates->Add(ids);
    }
    if (next >= readings.size()) break;
  }
  return absl::OkStatus();
}

// Scores every candidate from its index document (no customer data read yet); candidates
// that no longer match are left out.
absl::StatusOr<std::vector<SearchHit>> ScoreCandidates(const SearchContext& sc,
                                                       SearchScorer& scorer,
                                                       const std::vector<std::string>& candidates) {
  std::vector<SearchHit> hits;
  for (size_t begin = 0; begin < candidates.size(); begin += kIdsPerStatement) {
    const size_t end = std::min(candidates.size(), begin + kIdsPerStatement);
    std::vector<Value> params = {sc.tenant};
    for (size_t i = begin; i < end; ++i) params.push_back(candidates[i]);
    auto rows =
        sc.tx.Query(absl::StrCat("SELECT customer_id, name_words, company_words, phones, email "
                                 "FROM customer_query_docs WHERE tenant_id = ? AND "
                                 "customer_id IN (",
                                 Placeholders(end - begin), ")"),
                    params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      SearchHit hit;
      hit.customer_id = r.GetText(0);
      const std::string name_words = r.GetText(1), company_words = r.GetText(2);
      const std::string email = r.GetText(4);
      const std::vector<search_tables::DocPhone> doc_phones =
          search_tables::ParsePhones(r.GetText(3));
      std::vector<domain::SearchPhone> phones;
      for (const auto& p : doc_phones) phones.push_back({p.position, p.e164, p.national});
      std::vector<domain::ScoredMatch> scored =
          scorer.Score({name_words, company_words, phones, email});
      if (scored.empty()) continue;
      std::vector<SearchMatchInfo> matches;
      for (auto& m : scored) matches.push_back({m.field, std::move(m.value), m.exact, m.score});
      hit.score = matches[0].score;
      hit.matches = std::move(matches);
      hits.push_back(std::move(hit));
    }
  }
  return hits;
}

// The SQL search: candidates from the search tables, each source bounded, scored from
// customer_query_docs.
absl::StatusOr<std::vector<SearchHit>> SqlHits(const SearchContext& sc,
                                               const phone::PhoneNormalizer& phone_keys, int budget,
                                               const std::string& trimmed,
                                               const std::string& region) {
  const std::string folded = text::FoldForMatch(Sv(trimmed));
  Candidates candidates;
  const std::vector<std::string> keys = phone_keys.SearchKeys(Sv(trimmed), Sv(region));
  if (absl::Status s = AddPhoneCandidates(sc, keys, budget, &candidates); !s.ok()) return s;
  SearchScorer scorer(folded, keys, sc.threshold);
  const std::vector<std::string>& words = scorer.words();
  if (keys.empty() && !words.empty()) {
    if (absl::Status s = AddNameCandidates(sc, words, budget, &candidates); !s.ok()) return s;
  }
  if (keys.empty() && folded.find(' ') == std::string::npos && folded.size() >= 2) {
    const std::string coll = query_sql::CollC(sc.tx);
    auto ids =
        search_postings::Postings(sc, "search_emails", "p.email >= ? AND p.email < ?",
                                  {folded, absl::StrCat(folded, kMaxCodePoint)},
                                  absl::StrCat("p.email", coll, ", p.customer_id", coll), budget);
    if (!ids.ok()) return ids.status();
    candidates.Add(*ids);
  }
  return ScoreCandidates(sc, scorer, candidates.ids());
}

// The search over the tenant's index in memory (search_index_cache.h); nullopt while it is
// not loaded, and for a filter with conditions other than the state, which the index does
// not hold (the SQL search joins them; checking them per candidate would cost a query per
// posting).
absl::StatusOr<std::optional<std::vector<SearchHit>>> IndexedHits(const SearchContext& sc,
                                                                  SearchIndexCache& index,
                                                                  const std::string& trimmed,
                                                                  const std::string& region) {
  ListFilter conditions = sc.filter;
  conditions.state.reset();
  if (conditions.Canonical() != ListFilter().Canonical()) {
    return std::optional<std::vector<SearchHit>>();
  }
  domain::SearchIndexQuery query;
  query.query = trimmed;
  query.phone_region = region;
  query.states.assign(sc.states.begin(), sc.states.end());
  auto result = index.Search(sc.tx, sc.tenant, query);
  if (!result.ok()) return result.status();
  if (!result->has_value()) return std::optional<std::vector<SearchHit>>();
  std::vector<SearchHit> hits;
  hits.reserve((*result)->hits.size());
  for (domain::SearchIndexHit& found : (*result)->hits) {
    SearchHit& hit = hits.emplace_back();
    hit.customer_id = std::move(found.customer_id);
    hit.score = found.score;
    for (auto& m : found.matches) {
      hit.matches.push_back({m.field, std::move(m.value), m.exact, m.score});
    }
  }
  return std::optional<std::vector<SearchHit>>(std::move(hits));
}

// --- Parse and plan ---

// A search request, checked: the trimmed query, filter, page size, states, order (nullopt =
// relevance) and the binding of its page tokens.
struct SearchPlan {
  std::string trimmed;
  ListFilter filter;
  int page_size = 0;
  std::vector<int64_t> states;
  std::optional<ListOrder> order;
  std::optional<SortSpec> sort;  // of `order`
  std::string binding;
};

absl::StatusOr<SearchPlan> PlanSearch(const SearchOptions& options) {
  SearchPlan plan;
  auto trimmed = text::TrimmedName(Sv(options.query), kMaxQueryChars);
  if (!trimmed.ok()) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "query must hold 1-200 characters", {},
                         {{"query", "must hold 1-200 characters of text"}});
  }
  plan.trimmed = *std::move(trimmed);
  auto filter = domain::ParseListFilter(options.filter);
  if (!filter.ok()) return filter.status();
  plan.filter = *std::move(filter);
  auto page_size = domain::ListPageSize(options.page_size, domain::kSearchDefaultPageSize,
                                        domain::kSearchMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  plan.page_size = *page_size;
  plan.states = query_sql::StatesOf(plan.filter, options.show_archived);
  const std::string folded = text::FoldForMatch(Sv(plan.trimmed));
  // Relevance (empty order_by) or one of the list orders over the matching customers.
  if (!options.order_by.empty()) {
    auto parsed = domain::ParseListOrder(options.order_by);
    if (!parsed.ok()) return parsed.status();
    plan.order = *parsed;
    plan.sort = query_sql::SortOf(*plan.order);
  }
  plan.binding = absl::StrCat("search\x1f", folded, "\x1f", plan.filter.Canonical(), "\x1f",
                              absl::StrJoin(plan.states, ","), "\x1f", options.phone_region, "\x1f",
                              plan.order ? plan.order->Canonical() : "relevance");
  return plan;
}

// Where a page of a search starts: the filter context and, after the first page, the last
// hit of the previous page (relevance score or sort key, and id).
struct SearchCursor {
  FilterContext ctx;
  std::optional<Ranked> after;
};

absl::StatusOr<SearchCursor> ReadSearchCursor(db::Transaction& tx, const std::string& tenant,
                                              const std::string& page_token, const SearchPlan& plan,
                                              const Clock& clock) {
  SearchCursor cursor;
  if (page_token.empty()) {
    auto first = query_sql::FirstPageContext(tx, tenant, plan.filter, clock.Now());
    if (!first.ok()) return first.status();
    cursor.ctx = *first;
    return cursor;
  }
  auto values = domain::DecodeKeysetToken(page_token, "search", tenant, plan.binding);
  if (!values.ok()) return values.status();
  Ranked last;
  bool ok = values->size() == 4 && query_sql::ContextFromValues(*values, &cursor.ctx);
  if (ok && !plan.order) ok = query_paging::ParseDoubleBits((*values)[2], &last.score);
  if (ok && plan.order && !plan.sort->text_key) ok = absl::SimpleAtoi((*values)[2], &last.int_key);
  if (!ok) return query_paging::InvalidToken();
  last.text_key = (*values)[2];
  last.id = (*values)[3];
  cursor.after = std::move(last);
  return cursor;
}

// --- Ordering and paging ---

// The hits' positions, with the sort keys of `sort` read for them when given.
absl::StatusOr<std::vector<Ranked>> RankHits(db::Transaction& tx, const std::string& tenant,
                                             const std::vector<SearchHit>& hits,
                                             const std::optional<SortSpec>& sort) {
  std::vector<Ranked> ranked(hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    ranked[i].score = hits[i].score;
    ranked[i].id = hits[i].customer_id;
    ranked[i].index = i;
  }
  if (!sort) return ranked;
  absl::flat_hash_map<std::string, Ranked*> by_id;
  for (auto& r : ranked) by_id[r.id] = &r;
  for (size_t begin = 0; begin < ranked.size(); begin += kIdsPerStatement) {
    const size_t end = std::min(ranked.size(), begin + kIdsPerStatement);
    std::vector<Value> params = {tenant};
    for (size_t i = begin; i < end; ++i) params.push_back(ranked[i].id);
    auto rows = tx.Query(
        absl::StrCat("SELECT c.customer_id, ", sort->key,
                     " FROM customers c CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND "
                     "c.customer_id IN (",
                     Placeholders(end - begin),
                     ") AND s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id"),
        params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      Ranked* target = by_id[r.GetText(0)];
      if (sort->text_key) {
        target->text_key = r.GetText(1);
      } else {
        target->int_key = r.GetInt(1);
      }
    }
  }
  return ranked;
}

// Sorts `ranked` in the plan's order, drops what is not after the cursor and keeps at most
// a page; returns whether more followed.
bool OrderPage(const SearchPlan& plan, const std::optional<Ranked>& after,
               std::vector<Ranked>* ranked) {
  auto before = [&](const Ranked& a, const Ranked& b) {
    if (!plan.order) {
      if (a.score != b.score) return a.score > b.score;
      return a.id < b.id;
    }
    return query_sql::SortsBefore(*plan.sort, plan.order->descending, a.text_key, a.int_key, a.id,
                                  b.text_key, b.int_key, b.id);
  };
  std::sort(ranked->begin(), ranked->end(), before);
  if (after) {
    ranked->erase(std::remove_if(ranked->begin(), ranked->end(),
                                 [&](const Ranked& r) { return !before(*after, r); }),
                  ranked->end());
  }
  const bool more = static_cast<int>(ranked->size()) > plan.page_size;
  if (more) ranked->resize(plan.page_size);
  return more;
}

// Fills the page's hits with their customers and stats (names as stored for the matches);
// hits whose customer is gone are dropped, with their `ranked` entry.
absl::Status LoadPageCustomers(db::Transaction& tx, const std::string& tenant,
                               std::vector<SearchHit>* hits, std::vector<Ranked>* ranked) {
  if (hits->empty()) return absl::OkStatus();
  std::vector<Value> params = {tenant};
  for (const auto& h : *hits) params.push_back(h.customer_id);
  auto rows = tx.Query(absl::StrCat("SELECT c.customer_id, c.data, ", query_sql::kStatsColumns,
                                    ", c.display_name FROM customers c CROSS JOIN "
                                    "customer_stats s WHERE c.tenant_id = ? AND c.customer_id "
                                    "IN (",
                                    Placeholders(hits->size()),
                                    ") AND s.tenant_id = c.tenant_id AND s.customer_id = "
                                    "c.customer_id"),
                       params);
  if (!rows.ok()) return rows.status();
  absl::flat_hash_map<std::string, const db::Row*> by_id;
  for (const auto& r : *rows) by_id[r.GetText(0)] = &r;
  for (auto& h : *hits) {
    auto it = by_id.find(h.customer_id);
    if (it == by_id.end()) continue;
    const db::Row& r = *it->second;
    h.data = r.GetBytes(1);
    h.stats = query_sql::StatsFromRow(r, 2);
    v1::Customer customer;
    bool parsed = false;
    for (auto& m : h.matches) {
      if (m.field == v1::SEARCH_FIELD_DISPLAY_NAME) m.value = r.GetText(9);
      if (m.field == v1::SEARCH_FIELD_COMPANY_NAME) {
        if (!parsed) parsed = customer.ParseFromString(h.data);
        m.value = customer.company_name();
      }
    }
  }
  // A customer removed after the index saw it (PostgreSQL reads each statement afresh) is
  // left out rather than answered empty.
  size_t kept = 0;
  for (size_t i = 0; i < hits->size(); ++i) {
    if ((*hits)[i].data.empty()) continue;
    if (kept != i) {
      (*hits)[kept] = std::move((*hits)[i]);
      (*ranked)[kept] = std::move((*ranked)[i]);
    }
    ++kept;
  }
  hits->resize(kept);
  ranked->resize(kept);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SearchPage> CustomerQuery::Search(db::Transaction& tx, absl::string_view tenant_view,
                                                 const SearchOptions& options) const {
  const std::string tenant(tenant_view);
  auto plan = PlanSearch(options);
  if (!plan.ok()) return plan.status();
  auto cursor = ReadSearchCursor(tx, tenant, options.page_token, *plan, clock_);
  if (!cursor.ok()) return cursor.status();
  const SearchContext sc{tx,           tenant,      plan->states,
                         plan->filter, cursor->ctx, options_.name_similarity_threshold};

  // 1. Candidates and their scores: from the tenant's index in memory when it is loaded,
  // else from the SQL search tables.
  std::vector<SearchHit> hits;
  bool from_memory = false;
  if (index_ != nullptr) {
    auto found = IndexedHits(sc, *index_, plan->trimmed, options.phone_region);
    if (!found.ok()) return found.status();
    if (found->has_value()) {
      hits = **std::move(found);
      from_memory = true;
    }
  }
  if (!from_memory) {
    auto found =
        SqlHits(sc, phones_, options_.search_candidates, plan->trimmed, options.phone_region);
    if (!found.ok()) return found.status();
    hits = *std::move(found);
  }
  // 2. Order: relevance, or the requested list order (keys read for the scored hits only).
  auto ranked = RankHits(tx, tenant, hits, plan->sort);
  if (!ranked.ok()) return ranked.status();
  bool more = OrderPage(*plan, cursor->after, &*ranked);
  {
    std::vector<SearchHit> ordered;
    ordered.reserve(ranked->size());
    for (const Ranked& r : *ranked) ordered.push_back(std::move(hits[r.index]));
    hits = std::move(ordered);
  }
  // 3. The page's customers and stats; names as stored for the matches.
  if (absl::Status s = LoadPageCustomers(tx, tenant, &hits, &*ranked); !s.ok()) return s;
  // Only as many results as fit the response budget; the next page continues after the last.
  const size_t keep = query_paging::FitPage(hits.size(), options.max_page_bytes,
                                            [&](size_t i) { return SearchHitBytes(hits[i]); });
  if (keep < hits.size()) {
    more = true;
    hits.resize(keep);
    ranked->resize(keep);
  }
  SearchPage page;
  if (more && !ranked->empty()) {
    const Ranked& last = ranked->back();
    std::vector<std::string> values = query_sql::ContextValues(cursor->ctx);
    values.push_back(!plan->order           ? query_paging::DoubleBits(last.score)
                     : plan->sort->text_key ? last.text_key
                                            : absl::StrCat(last.int_key));
    values.push_back(last.id);
    page.next_page_token = domain::EncodeKeysetToken("search", tenant, plan->binding, values);
  }
  page.hits = std::move(hits);
  return page;
}

}  // namespace kelola::customer::store
