// CustomerQuery::FindDuplicates (C7): likely duplicate pairs of customers (same phone, same
// email, similar names), scored and keyset-paginated. Phones are paired in SQL
// (customer_phones); emails and name words through the tenant's search index in memory.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/domain/search_text.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/query_paging.h"
#include "customer-svc/store/query_sql.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/text/trigram.h"

namespace kelola::customer::store {
namespace {

using db::Placeholders;
using db::Value;

// Words held by at most this many customers pair them up in a whole-tenant search.
constexpr size_t kBlock = 64;
// Customers each field and spelling variant of one customer's name contributes.
constexpr size_t kNeighbours = 200;

// A request, checked: the score threshold, page size, listed states, token binding and
// the last pair of the previous page (score, low id, high id).
struct DuplicatePlan {
  double min_score = 0;
  int page_size = 0;
  std::vector<int64_t> states;
  std::string binding;
  std::optional<std::tuple<double, std::string, std::string>> after;
};

absl::StatusOr<DuplicatePlan> PlanDuplicates(db::Transaction& tx, const std::string& tenant,
                                             const DuplicateOptions& options) {
  if (!(options.min_score >= 0 && options.min_score <= 1)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "min_score must be within 0-1", {}, {{"min_score", "must be within 0-1"}});
  }
  DuplicatePlan plan;
  plan.min_score = options.min_score == 0 ? 0.6 : options.min_score;
  auto page_size = domain::ListPageSize(options.page_size, 50, 200);
  if (!page_size.ok()) return page_size.status();
  plan.page_size = *page_size;
  plan.states = query_sql::StatesOf(domain::ListFilter(), options.show_archived);
  plan.binding = absl::StrCat("dups\x1f", options.customer_id, "\x1f",
                              query_paging::DoubleBits(plan.min_score), "\x1f",
                              absl::StrJoin(plan.states, ","));
  if (!options.page_token.empty()) {
    auto values = domain::DecodeKeysetToken(options.page_token, "dups", tenant, plan.binding);
    if (!values.ok()) return values.status();
    double score = 0;
    if (values->size() != 3 || !query_paging::ParseDoubleBits((*values)[0], &score)) {
      return query_paging::InvalidToken();
    }
    plan.after.emplace(score, (*values)[1], (*values)[2]);
  }
  if (!options.customer_id.empty()) {
    auto rows = tx.Query("SELECT 1 FROM customers WHERE tenant_id = ? AND customer_id = ?",
                         {tenant, options.customer_id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND",
                           absl::StrCat("customer ", options.customer_id, " not found"),
                           {{"customer_id", options.customer_id}});
    }
  }
  return plan;
}

// Candidate pairs (low id, high id) -> reasons found so far.
class CandidatePairs {
 public:
  using Map = std::map<std::pair<std::string, std::string>, std::set<int>>;

  // Adds the pair {a, b} (nothing when a == b) with `reason` (0: none yet).
  void Add(const std::string& a, const std::string& b, int reason) {
    if (a == b) return;
    auto& reasons = a < b ? pairs_[{a, b}] : pairs_[{b, a}];
    if (reason != 0) reasons.insert(reason);
  }
  const Map& pairs() const { return pairs_; }

 private:
  Map pairs_;
};

// Pairs sharing a phone (those of `customer_id` only when not empty).
absl::Status AddSamePhonePairs(db::Transaction& tx, const std::string& tenant,
                               const std::string& customer_id, CandidatePairs* pairs) {
  const bool one = !customer_id.empty();
  std::vector<Value> params = {tenant};
  if (one) params.push_back(customer_id);
  auto rows = tx.Query(
      absl::StrCat("SELECT a.customer_id, b.customer_id FROM customer_phones a CROSS JOIN "
                   "customer_phones b WHERE a.tenant_id = ?",
                   one ? " AND a.customer_id = ?" : "",
                   " AND b.tenant_id = a.tenant_id AND b.e164 = a.e164 AND b.customer_id <> "
                   "a.customer_id"),
      params);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows)
    pairs->Add(r.GetText(0), r.GetText(1), v1::DUPLICATE_REASON_SAME_PHONE);
  return absl::OkStatus();
}

// Pairs sharing an email or a name word, from the tenant's index in memory. For one
// customer: those with its email, and those holding its whole name or company, a word of
// them or a spelling variant of one (at most kNeighbours per field and reading). For the
// whole tenant: every email held by several customers, and the words, whole names and
// companies held by at most kBlock customers.
absl::Status AddIndexPairs(db::Transaction& tx, SearchIndexCache& index, const std::string& tenant,
                           const std::string& customer_id, const std::vector<int64_t>& states,
                           CandidatePairs* pairs) {
  const std::vector<int> listed(states.begin(), states.end());
  // The groups are copied out under the index's reader lock and paired after it: a
  // whole-tenant pass makes up to kBlock * (kBlock - 1) / 2 pairs a group, and the tenant's
  // writers (and the searches that queue behind a waiting writer) wait only for the walk.
  struct Group {
    std::vector<std::string> ids;
    int reason = 0;
  };
  std::vector<Group> groups;
  absl::Status read = index.Read(tx, tenant, [&](const domain::SearchIndex& found) {
    if (!customer_id.empty()) {
      groups.push_back({found.SameEmail(customer_id), v1::DUPLICATE_REASON_SAME_EMAIL});
      groups.push_back({found.NameNeighbours(customer_id, listed, kNeighbours), 0});
      return;
    }
    auto copy = [&](const std::vector<std::string_view>& ids, int reason) {
      groups.push_back({std::vector<std::string>(ids.begin(), ids.end()), reason});
    };
    found.ForEachEmailGroup([&](const std::vector<std::string_view>& ids) {
      copy(ids, v1::DUPLICATE_REASON_SAME_EMAIL);
    });
    found.ForEachSmallGroup(kBlock,
                            [&](const std::vector<std::string_view>& ids) { copy(ids, 0); });
  });
  if (!read.ok()) return read;
  for (const Group& group : groups) {
    const std::vector<std::string>& ids = group.ids;
    if (!customer_id.empty()) {
      // The customer and each of the others.
      for (const std::string& id : ids) pairs->Add(customer_id, id, group.reason);
      continue;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      for (size_t j = i + 1; j < ids.size(); ++j) pairs->Add(ids[i], ids[j], group.reason);
    }
  }
  return absl::OkStatus();
}

// What the scoring and the page need of a customer of a pair.
struct PairCustomer {
  int state = 0;
  std::string name;
  int64_t create_micros = 0;
  std::string data;
};

using PairCustomers = absl::flat_hash_map<std::string, PairCustomer>;

// The customers of every pair, by id (missing customers are absent).
absl::StatusOr<PairCustomers> ReadPairCustomers(db::Transaction& tx, const std::string& tenant,
                                                const CandidatePairs::Map& pairs) {
  std::set<std::string> ids;
  for (const auto& [pair, reasons] : pairs) {
    ids.insert(pair.first);
    ids.insert(pair.second);
  }
  PairCustomers info;
  std::vector<std::string> id_list(ids.begin(), ids.end());
  absl::Status read =
      query_sql::ForEachInListChunk(id_list.size(), [&](size_t begin, size_t end) -> absl::Status {
        std::vector<Value> params = {tenant};
        for (size_t i = begin; i < end; ++i) params.push_back(id_list[i]);
        auto rows =
            tx.Query(absl::StrCat("SELECT customer_id, state, name_folded, create_time_micros, "
                                  "data FROM customers WHERE tenant_id = ? AND customer_id IN (",
                                  Placeholders(end - begin), ")"),
                     params);
        if (!rows.ok()) return rows.status();
        for (const auto& r : *rows) {
          info[r.GetText(0)] = {static_cast<int>(r.GetInt(1)), r.GetText(2), r.GetInt(3),
                                r.GetBytes(4)};
        }
        return absl::OkStatus();
      });
  if (!read.ok()) return read;
  return info;
}

struct Scored {
  double score;
  std::string lo, hi;
  std::vector<v1::DuplicateReason> reasons;
};

// The pairs of listed customers reaching `min_score`: 1 with a shared contact, else their
// names' similarity (SIMILAR_NAME from `name_threshold`). In no particular order.
std::vector<Scored> ScorePairs(const CandidatePairs::Map& pairs, const PairCustomers& info,
                               const std::vector<int64_t>& states, double name_threshold,
                               double min_score) {
  auto listed = [&](const std::string& id) -> const PairCustomer* {
    auto it = info.find(id);
    if (it == info.end()) return nullptr;
    if (std::find(states.begin(), states.end(), it->second.state) == states.end()) return nullptr;
    return &it->second;
  };
  std::vector<Scored> scored;
  // std::map: references stay valid while it grows.
  std::map<std::string, std::vector<std::string>> grams_cache;
  auto grams_of = [&](const std::string& id,
                      const std::string& name) -> const std::vector<std::string>& {
    auto it = grams_cache.find(id);
    if (it == grams_cache.end()) {
      it = grams_cache.emplace(id, text::Trigrams(domain::StripHonorifics(name))).first;
    }
    return it->second;
  };
  for (const auto& [pair, found] : pairs) {
    const PairCustomer* a = listed(pair.first);
    const PairCustomer* b = listed(pair.second);
    if (a == nullptr || b == nullptr) continue;
    std::set<int> reasons = found;
    const double sim =
        text::TrigramSetSimilarity(grams_of(pair.first, a->name), grams_of(pair.second, b->name));
    if (sim >= name_threshold) reasons.insert(v1::DUPLICATE_REASON_SIMILAR_NAME);
    if (reasons.empty()) continue;
    const bool contact = reasons.count(v1::DUPLICATE_REASON_SAME_PHONE) > 0 ||
                         reasons.count(v1::DUPLICATE_REASON_SAME_EMAIL) > 0;
    const double score = contact ? 1.0 : sim;
    if (score < min_score) continue;
    Scored s{score, pair.first, pair.second, {}};
    for (int r : reasons) s.reasons.push_back(static_cast<v1::DuplicateReason>(r));
    scored.push_back(std::move(s));
  }
  return scored;
}

// Sorts `scored` (score desc, then ids) and drops the pairs up to the cursor `after`.
void OrderAfter(const std::optional<std::tuple<double, std::string, std::string>>& after,
                std::vector<Scored>* scored) {
  std::sort(scored->begin(), scored->end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.lo != b.lo) return a.lo < b.lo;
    return a.hi < b.hi;
  });
  if (after) {
    const auto& [score, lo, hi] = *after;
    scored->erase(std::remove_if(scored->begin(), scored->end(),
                                 [score = score, &lo = lo, &hi = hi](const Scored& s) {
                                   if (s.score != score) return s.score > score;
                                   return std::tie(s.lo, s.hi) <= std::tie(lo, hi);
                                 }),
                  scored->end());
  }
}

// A page's pair, the customer created first first.
// Both customers are in `info` (ScorePairs keeps only such pairs).
DuplicatePairInfo PairInfo(Scored& s, const PairCustomers& info) {
  const PairCustomer& a = info.at(s.lo);
  const PairCustomer& b = info.at(s.hi);
  const bool a_first = std::tie(a.create_micros, s.lo) <= std::tie(b.create_micros, s.hi);
  DuplicatePairInfo p;
  p.first_id = a_first ? s.lo : s.hi;
  p.second_id = a_first ? s.hi : s.lo;
  p.first_data = a_first ? a.data : b.data;
  p.second_data = a_first ? b.data : a.data;
  p.score = s.score;
  p.reasons = std::move(s.reasons);
  return p;
}

}  // namespace

absl::StatusOr<DuplicatePage> CustomerQuery::FindDuplicates(db::Transaction& tx,
                                                            absl::string_view tenant_view,
                                                            const DuplicateOptions& options) const {
  const std::string tenant(tenant_view);
  auto plan = PlanDuplicates(tx, tenant, options);
  if (!plan.ok()) return plan.status();

  CandidatePairs pairs;
  if (absl::Status s = AddSamePhonePairs(tx, tenant, options.customer_id, &pairs); !s.ok()) {
    return s;
  }
  if (absl::Status s = AddIndexPairs(tx, index_, tenant, options.customer_id, plan->states, &pairs);
      !s.ok()) {
    return s;
  }

  // Details of every customer involved.
  auto info = ReadPairCustomers(tx, tenant, pairs.pairs());
  if (!info.ok()) return info.status();
  std::vector<Scored> scored = ScorePairs(pairs.pairs(), *info, plan->states,
                                          options_.duplicate_name_threshold, plan->min_score);
  OrderAfter(plan->after, &scored);
  DuplicatePage page;
  // At most page_size pairs, and only as many as fit the response budget (two customers each).
  const size_t keep = query_paging::FitPage(
      std::min(scored.size(), static_cast<size_t>(plan->page_size)), options.max_page_bytes,
      [&](size_t i) {
        return query_paging::PageItemBytes(info->at(scored[i].lo).data.size()) +
               query_paging::PageItemBytes(info->at(scored[i].hi).data.size()) + 32;
      });
  if (scored.size() > keep) {
    scored.resize(keep);
    page.next_page_token = domain::EncodeKeysetToken(
        "dups", tenant, plan->binding,
        {query_paging::DoubleBits(scored.back().score), scored.back().lo, scored.back().hi});
  }
  for (auto& s : scored) page.pairs.push_back(PairInfo(s, *info));
  return page;
}

}  // namespace kelola::customer::store
