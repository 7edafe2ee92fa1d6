// CustomerQuery::Search (C11): quick search over names, phones and email, from the tenant's
// index in memory; by relevance or in a list order, keyset-paginated.

#include <algorithm>
#include <cstdint>
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
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/text/normalize.h"

namespace kelola::customer::store {
namespace {

using db::Placeholders;
using db::Value;
using domain::ListFilter;
using domain::ListOrder;
using query_sql::FilterContext;
using query_sql::SortSpec;
using query_sql::Sv;

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

// --- Candidates from the index ---

// What a search reads with: its transaction, tenant, listed states, filter and filter context.
struct SearchContext {
  db::Transaction& tx;
  const std::string& tenant;
  const std::vector<int64_t>& states;
  const ListFilter& filter;
  const FilterContext& ctx;
};

// A filter with conditions beyond the state (category, consent, birthday, stats), which the
// index does not hold, is checked in SQL over the scored hits; each candidate source of the
// index then gathers these many times its usual budget: the first, and the second when the
// first left less than a page and may have been cut short by its budget
// (docs/decisions/search-index.md, "Filters").
constexpr int kFilteredBudgetFactors[] = {8, 64};

bool FiltersBeyondState(const ListFilter& filter) {
  ListFilter conditions = filter;
  conditions.state.reset();
  return conditions.Canonical() != ListFilter().Canonical();
}

// The hits whose customer passes the filter's conditions other than the state.
absl::StatusOr<std::vector<SearchHit>> KeepPassing(const SearchContext& sc,
                                                   std::vector<SearchHit> hits) {
  absl::flat_hash_set<std::string> passing;
  absl::Status read =
      query_sql::ForEachInListChunk(hits.size(), [&](size_t begin, size_t end) -> absl::Status {
        std::vector<Value> params = {sc.tenant};
        for (size_t i = begin; i < end; ++i) params.push_back(hits[i].customer_id);
        std::string sql = absl::StrCat(
            "SELECT c.customer_id FROM customers c CROSS JOIN customer_stats s WHERE "
            "c.tenant_id = ? AND c.customer_id IN (",
            Placeholders(end - begin),
            ") AND s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id");
        query_sql::AppendFilter(sc.filter, sc.ctx, &sql, &params);
        auto rows = sc.tx.Query(sql, params);
        if (!rows.ok()) return rows.status();
        for (const auto& r : *rows) passing.insert(r.GetText(0));
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [&](const SearchHit& h) { return !passing.contains(h.customer_id); }),
             hits.end());
  return hits;
}

// The scored hits of `query` from the tenant's index in memory (search_index_cache.h).
absl::StatusOr<std::vector<SearchHit>> ReadHits(const SearchContext& sc, SearchIndexCache& index,
                                                const domain::SearchIndexQuery& query) {
  domain::SearchIndexResult result;
  absl::Status read = index.Read(sc.tx, sc.tenant, [&](const domain::SearchIndex& tenant_index) {
    result = tenant_index.Search(query);
  });
  if (!read.ok()) return read;
  std::vector<SearchHit> hits;
  hits.reserve(result.hits.size());
  for (domain::SearchIndexHit& found : result.hits) {
    SearchHit& hit = hits.emplace_back();
    hit.customer_id = std::move(found.customer_id);
    hit.score = found.score;
    for (auto& m : found.matches) {
      hit.matches.push_back({m.field, std::move(m.value), m.exact, m.score});
    }
  }
  return hits;
}

// The scored hits of a search that pass its filter; `wanted` is a page and one. In relevance
// order (`relevance`) with no filter beyond the state, the index itself keeps only the hits
// after the cursor `after` and at most `wanted` of them, in order: the page the caller's
// ordering would cut from all of them, without copying out the rest.
absl::StatusOr<std::vector<SearchHit>> IndexedHits(const SearchContext& sc, SearchIndexCache& index,
                                                   int budget, size_t wanted,
                                                   const std::string& trimmed,
                                                   const std::string& region, bool relevance,
                                                   const std::optional<Ranked>& after) {
  domain::SearchIndexQuery query;
  query.query = trimmed;
  query.phone_region = region;
  query.states.assign(sc.states.begin(), sc.states.end());
  query.search_candidates = budget;
  if (!FiltersBeyondState(sc.filter)) {
    if (relevance) {
      if (after) query.after = std::make_pair(after->score, after->id);
      query.limit = wanted;
    }
    return ReadHits(sc, index, query);
  }
  std::vector<SearchHit> passing;
  for (int factor : kFilteredBudgetFactors) {
    query.search_candidates = budget * factor;
    auto hits = ReadHits(sc, index, query);
    if (!hits.ok()) return hits.status();
    const size_t found = hits->size();
    auto kept = KeepPassing(sc, *std::move(hits));
    if (!kept.ok()) return kept.status();
    passing = *std::move(kept);
    if (passing.size() >= wanted || found < static_cast<size_t>(query.search_candidates)) break;
  }
  return passing;
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
  absl::Status read =
      query_sql::ForEachInListChunk(ranked.size(), [&](size_t begin, size_t end) -> absl::Status {
        std::vector<Value> params = {tenant};
        for (size_t i = begin; i < end; ++i) params.push_back(ranked[i].id);
        auto rows = tx.Query(
            absl::StrCat("SELECT c.customer_id, ", sort->key,
                         " FROM customers c CROSS JOIN customer_stats s WHERE c.tenant_id = ? "
                         "AND c.customer_id IN (",
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
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
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
  const SearchContext sc{tx, tenant, plan->states, plan->filter, cursor->ctx};

  // 1. Candidates and their scores, from the tenant's index in memory.
  auto found =
      IndexedHits(sc, index_, options_.search_candidates, static_cast<size_t>(plan->page_size) + 1,
                  plan->trimmed, options.phone_region, !plan->order, cursor->after);
  if (!found.ok()) return found.status();
  std::vector<SearchHit> hits = *std::move(found);
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
