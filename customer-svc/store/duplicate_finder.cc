// CustomerQuery::FindDuplicates (C7): likely duplicate pairs of customers (same phone, same
// email, similar names), scored and keyset-paginated. Candidate pairs come from the tenant's
// search index in memory (phones, emails, name words); the customers' states and names for
// scoring, and the page, from SQL.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/domain/search_text.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/duplicate_lists.h"
#include "customer-svc/store/query_paging.h"
#include "customer-svc/store/query_sql.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/text/trigram.h"

namespace kelola::customer::store {
namespace {

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

static_assert(v1::DuplicateReason_MAX < 8, "reasons are kept as bits of a uint8_t");

// Candidate pairs and the reasons found so far. Customers are numbered as they come (ids
// interned once), so a whole-tenant pass, which may make many pairs per customer, hashes
// and compares numbers, not id strings.
class CandidatePairs {
 public:
  // The number of customer `id`.
  uint32_t Number(const std::string& id) {
    auto [it, added] = numbers_.try_emplace(id, static_cast<uint32_t>(ids_.size()));
    if (added) ids_.push_back(id);
    return it->second;
  }
  // Adds the pair {a, b} (nothing when a == b) with `reason` (0: none yet).
  void Add(uint32_t a, uint32_t b, int reason) {
    if (a == b) return;
    uint8_t& reasons = pairs_[Key(a, b)];
    if (reason != 0) reasons |= static_cast<uint8_t>(1u << reason);
  }
  // Numbers the customers again in the order of their ids, so that a pair's smaller number
  // is the customer whose id sorts first and numbers compare as ids do. No Number after it.
  void SortIds() {
    std::vector<uint32_t> order(ids_.size());
    for (uint32_t n = 0; n < order.size(); ++n) order[n] = n;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return ids_[a] < ids_[b]; });
    std::vector<uint32_t> rank(ids_.size());
    std::vector<std::string> sorted(ids_.size());
    for (uint32_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = r;
      sorted[r] = std::move(ids_[order[r]]);
    }
    absl::flat_hash_map<uint64_t, uint8_t> renumbered;
    renumbered.reserve(pairs_.size());
    for (const auto& [key, reasons] : pairs_) {
      renumbered.emplace(Key(rank[First(key)], rank[Second(key)]), reasons);
    }
    ids_ = std::move(sorted);
    pairs_ = std::move(renumbered);
    numbers_.clear();
  }

  const std::vector<std::string>& ids() const { return ids_; }
  std::vector<std::string> TakeIds() && { return std::move(ids_); }
  // Pair key (smaller number << 32 | larger) -> bit set of reasons (1 << reason).
  const absl::flat_hash_map<uint64_t, uint8_t>& pairs() const { return pairs_; }
  static uint32_t First(uint64_t key) { return static_cast<uint32_t>(key >> 32); }
  static uint32_t Second(uint64_t key) { return static_cast<uint32_t>(key); }

 private:
  static uint64_t Key(uint32_t a, uint32_t b) {
    return uint64_t{std::min(a, b)} << 32 | std::max(a, b);
  }
  std::vector<std::string> ids_;
  absl::flat_hash_map<std::string, uint32_t> numbers_;
  absl::flat_hash_map<uint64_t, uint8_t> pairs_;
};

// Pairs sharing a phone, an email or a name word, from the tenant's index in memory. For one
// customer: those with a phone or the email it has, and those holding its whole name or
// company, a word of them or a spelling variant of one (at most kNeighbours per field and
// reading). For the whole tenant: every phone and every email held by several customers, and
// the words, whole names and companies held by at most kBlock customers. `kept` is told the
// index's generation first; when it answers true (a list made from this generation is kept),
// no pair is added.
absl::Status AddIndexPairs(db::Transaction& tx, SearchIndexCache& index, const std::string& tenant,
                           const std::string& customer_id, const std::vector<int64_t>& states,
                           absl::FunctionRef<bool(uint64_t generation)> kept,
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
    if (kept(found.generation())) return;
    if (!customer_id.empty()) {
      groups.push_back({found.SamePhone(customer_id), v1::DUPLICATE_REASON_SAME_PHONE});
      groups.push_back({found.SameEmail(customer_id), v1::DUPLICATE_REASON_SAME_EMAIL});
      groups.push_back({found.NameNeighbours(customer_id, listed, kNeighbours), 0});
      return;
    }
    auto copy = [&](const std::vector<std::string_view>& ids, int reason) {
      groups.push_back({std::vector<std::string>(ids.begin(), ids.end()), reason});
    };
    found.ForEachPhoneGroup([&](const std::vector<std::string_view>& ids) {
      copy(ids, v1::DUPLICATE_REASON_SAME_PHONE);
    });
    found.ForEachEmailGroup([&](const std::vector<std::string_view>& ids) {
      copy(ids, v1::DUPLICATE_REASON_SAME_EMAIL);
    });
    found.ForEachSmallGroup(kBlock,
                            [&](const std::vector<std::string_view>& ids) { copy(ids, 0); });
  });
  if (!read.ok()) return read;
  std::vector<uint32_t> numbers;
  for (const Group& group : groups) {
    numbers.clear();
    for (const std::string& id : group.ids) numbers.push_back(pairs->Number(id));
    if (!customer_id.empty()) {
      // The customer and each of the others.
      const uint32_t self = pairs->Number(customer_id);
      for (uint32_t other : numbers) pairs->Add(self, other, group.reason);
      continue;
    }
    for (size_t i = 0; i < numbers.size(); ++i) {
      for (size_t j = i + 1; j < numbers.size(); ++j) {
        pairs->Add(numbers[i], numbers[j], group.reason);
      }
    }
  }
  return absl::OkStatus();
}

// The number of customer `id` among `ids`, sorted as CandidatePairs::SortIds leaves them;
// nullopt when it is not there.
std::optional<uint32_t> NumberOf(const std::vector<std::string>& ids, const std::string& id) {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return std::nullopt;
  return static_cast<uint32_t>(it - ids.begin());
}

// What scoring needs of a customer of a pair.
struct PairCustomer {
  bool found = false;
  int state = 0;
  std::string name;  // folded
};

// The state and folded name of every customer of a pair, by number.
absl::StatusOr<std::vector<PairCustomer>> ReadPairCustomers(db::Transaction& tx,
                                                            const std::string& tenant,
                                                            const std::vector<std::string>& ids) {
  std::vector<PairCustomer> info(ids.size());
  absl::Status read =
      query_sql::ForEachCustomerRow(tx, tenant, ids, "state, name_folded", [&](const db::Row& r) {
        if (auto n = NumberOf(ids, r.GetText(0))) {
          info[*n] = {true, static_cast<int>(r.GetInt(1)), r.GetText(2)};
        }
      });
  if (!read.ok()) return read;
  return info;
}

// The pairs of listed customers reaching `min_score`: 1 with a shared contact, else their
// names' similarity (SIMILAR_NAME from `name_threshold`). In no particular order.
std::vector<ScoredPair> ScorePairs(const CandidatePairs& pairs,
                                   const std::vector<PairCustomer>& info,
                                   const std::vector<int64_t>& states, double name_threshold,
                                   double min_score) {
  std::vector<char> listed(info.size());
  for (size_t n = 0; n < info.size(); ++n) {
    listed[n] =
        info[n].found && std::find(states.begin(), states.end(), info[n].state) != states.end();
  }
  std::vector<std::optional<text::TrigramCodes>> grams(info.size());
  auto grams_of = [&](uint32_t n) -> const text::TrigramCodes& {
    if (!grams[n]) grams[n] = text::TrigramCodesOf(domain::StripHonorifics(info[n].name));
    return *grams[n];
  };
  constexpr uint8_t kContact =
      1u << v1::DUPLICATE_REASON_SAME_PHONE | 1u << v1::DUPLICATE_REASON_SAME_EMAIL;
  std::vector<ScoredPair> scored;
  for (const auto& [key, found] : pairs.pairs()) {
    const uint32_t lo = CandidatePairs::First(key);
    const uint32_t hi = CandidatePairs::Second(key);
    if (!listed[lo] || !listed[hi]) continue;
    uint8_t reasons = found;
    const double sim = text::TrigramCodeSimilarity(grams_of(lo), grams_of(hi));
    if (sim >= name_threshold) reasons |= 1u << v1::DUPLICATE_REASON_SIMILAR_NAME;
    if (reasons == 0) continue;
    const double score = (reasons & kContact) != 0 ? 1.0 : sim;
    if (score < min_score) continue;
    scored.push_back({score, lo, hi, reasons});
  }
  return scored;
}

// The duplicate list of `pairs` (the index's), in page order.
absl::StatusOr<std::shared_ptr<const DuplicateList>> MakeList(
    db::Transaction& tx, const std::string& tenant, const DuplicatePlan& plan,
    double name_threshold, uint64_t generation, CandidatePairs pairs) {
  pairs.SortIds();
  auto info = ReadPairCustomers(tx, tenant, pairs.ids());
  if (!info.ok()) return info.status();
  auto list = std::make_shared<DuplicateList>();
  list->generation = generation;
  list->binding = plan.binding;
  list->pairs = ScorePairs(pairs, *info, plan.states, name_threshold, plan.min_score);
  // Numbers compare as ids do (SortIds).
  std::sort(list->pairs.begin(), list->pairs.end(), [](const ScoredPair& a, const ScoredPair& b) {
    return std::tie(b.score, a.lo, a.hi) < std::tie(a.score, b.lo, b.hi);
  });
  list->pairs.shrink_to_fit();
  list->ids = std::move(pairs).TakeIds();
  return list;
}

// The page of `list` after the plan's cursor, with its customers as stored now (a pair
// whose customer was removed since the list was made is left out).
absl::StatusOr<DuplicatePage> ReadPage(db::Transaction& tx, const std::string& tenant,
                                       const DuplicatePlan& plan, size_t max_page_bytes,
                                       const DuplicateList& list) {
  size_t start = 0;
  if (plan.after) {
    const auto& [score, lo, hi] = *plan.after;
    start = static_cast<size_t>(
        std::partition_point(list.pairs.begin(), list.pairs.end(),
                             [&, score = score, &lo = lo, &hi = hi](const ScoredPair& p) {
                               if (p.score != score) return p.score > score;
                               return std::tie(list.ids[p.lo], list.ids[p.hi]) <= std::tie(lo, hi);
                             }) -
        list.pairs.begin());
  }
  const size_t candidates =
      std::min(list.pairs.size() - start, static_cast<size_t>(plan.page_size));
  std::vector<uint32_t> shown;
  for (size_t i = start; i < start + candidates; ++i) {
    shown.push_back(list.pairs[i].lo);
    shown.push_back(list.pairs[i].hi);
  }
  std::sort(shown.begin(), shown.end());
  shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
  std::vector<std::string> shown_ids;
  for (uint32_t n : shown) shown_ids.push_back(list.ids[n]);
  struct Stored {
    int64_t create_micros = 0;
    std::string data;
  };
  absl::flat_hash_map<uint32_t, Stored> stored;
  absl::Status read = query_sql::ForEachCustomerRow(
      tx, tenant, shown_ids, "create_time_micros, data", [&](const db::Row& r) {
        if (auto n = NumberOf(list.ids, r.GetText(0))) stored[*n] = {r.GetInt(1), r.GetBytes(2)};
      });
  if (!read.ok()) return read;
  auto bytes_of = [&](uint32_t n) {
    auto it = stored.find(n);
    return query_paging::PageItemBytes(it == stored.end() ? 0 : it->second.data.size());
  };
  // At most page_size pairs, and only as many as fit the response budget (two customers each).
  const size_t keep = query_paging::FitPage(candidates, max_page_bytes, [&](size_t i) {
    return bytes_of(list.pairs[start + i].lo) + bytes_of(list.pairs[start + i].hi) + 32;
  });
  DuplicatePage page;
  for (size_t i = start; i < start + keep; ++i) {
    const ScoredPair& s = list.pairs[i];
    auto a = stored.find(s.lo);
    auto b = stored.find(s.hi);
    if (a == stored.end() || b == stored.end()) continue;
    // The customer created first first: the suggested survivor.
    const bool a_first =
        std::tie(a->second.create_micros, s.lo) <= std::tie(b->second.create_micros, s.hi);
    DuplicatePairInfo& p = page.pairs.emplace_back();
    p.first_id = list.ids[a_first ? s.lo : s.hi];
    p.second_id = list.ids[a_first ? s.hi : s.lo];
    p.first_data = (a_first ? a : b)->second.data;
    p.second_data = (a_first ? b : a)->second.data;
    p.score = s.score;
    for (int reason = 1; reason < 8; ++reason) {
      if ((s.reasons & (1u << reason)) != 0) {
        p.reasons.push_back(static_cast<v1::DuplicateReason>(reason));
      }
    }
  }
  if (start + keep < list.pairs.size()) {
    const ScoredPair& last = list.pairs[start + keep - 1];
    page.next_page_token = domain::EncodeKeysetToken(
        "dups", tenant, plan.binding,
        {query_paging::DoubleBits(last.score), list.ids[last.lo], list.ids[last.hi]});
  }
  return page;
}

}  // namespace

absl::StatusOr<DuplicatePage> CustomerQuery::FindDuplicates(db::Transaction& tx,
                                                            absl::string_view tenant_view,
                                                            const DuplicateOptions& options) const {
  const std::string tenant(tenant_view);
  auto plan = PlanDuplicates(tx, tenant, options);
  if (!plan.ok()) return plan.status();

  // The index first: its catch-up applies every write committed before this read, so the
  // generation it then has tells whether the list kept for the tenant is still the list.
  const bool whole = options.customer_id.empty();
  uint64_t generation = 0;
  std::shared_ptr<const DuplicateList> list;
  CandidatePairs pairs;
  absl::Status indexed = AddIndexPairs(
      tx, index_, tenant, options.customer_id, plan->states,
      [&](uint64_t g) {
        generation = g;
        if (whole) list = duplicate_lists_->Find(tenant, g, plan->binding);
        return list != nullptr;
      },
      &pairs);
  if (!indexed.ok()) return indexed;
  if (list == nullptr) {
    auto made = MakeList(tx, tenant, *plan, options_.duplicate_name_threshold, generation,
                         std::move(pairs));
    if (!made.ok()) return made.status();
    list = *std::move(made);
    // Kept only when the index did not move since before the transaction began: on SQLite
    // the transaction reads one snapshot, and the index may meanwhile have applied writes
    // that snapshot does not hold (another reader's catch-up); a list made from older rows
    // must not be kept under the newer generation.
    if (whole && generation == options.index_generation) {
      duplicate_lists_->Put(tenant, list);
    }
  }
  return ReadPage(tx, tenant, *plan, options.max_page_bytes, *list);
}

}  // namespace kelola::customer::store
