#pragma once

// Pieces every tenant-wide report uses: request checks (date ranges, order_by), money and
// dates on the wire, the customer index, and key-based pages over a sorted list (a page
// token carries the last row's sort key, so a page resumes after it even when rows were
// added or removed meanwhile).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "kelola/type/v1/date.pb.h"
#include "kelola/type/v1/money.pb.h"
#include "libs/customer_stream/customer_reducer.h"
#include "libs/errors/errors.h"

namespace kelola::report::app {

type::v1::Money MoneyOf(int64_t amount, const std::string& currency);

// Ids are at most 64 characters, as customer-svc and ledger-svc allow them.
inline constexpr size_t kMaxIdLength = 64;
// Adds a violation when a non-empty `value` is longer than an id may be.
void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& value);

// A required Date: its day, or a violation (missing, or not a valid calendar day).
std::optional<absl::CivilDay> RequiredDay(errors::FieldErrors& fields, const std::string& field,
                                          bool has, const type::v1::Date& date);

// The customers of the dimension by id.
class CustomerIndex {
 public:
  explicit CustomerIndex(std::vector<customer_stream::CustomerRow> rows);
  // nullptr when the directory has not reported the customer (yet).
  const customer_stream::CustomerRow* Find(const std::string& customer_id) const;
  // The customer's category as of now; "" when none or unknown.
  std::string CategoryOf(const std::string& customer_id) const;
  const std::vector<customer_stream::CustomerRow>& rows() const { return rows_; }

 private:
  std::vector<customer_stream::CustomerRow> rows_;
  std::unordered_map<std::string, size_t> by_id_;
};

// A sort order: one field, a direction.
struct SortOrder {
  std::string field;
  bool descending = true;
};

// `order_by` as "<field>[ asc|desc]" with `field` one of `allowed`; empty → `fallback`.
// `default_descending(field)` gives the direction when none is written. INVALID_ARGUMENT
// INVALID_ORDER_BY (metadata order_by) otherwise. With `fixed_direction`, only the
// allowed field's default direction may be written.
absl::StatusOr<SortOrder> ParseOrderBy(const std::string& order_by,
                                       const std::vector<std::string>& allowed,
                                       const SortOrder& fallback,
                                       bool (*default_descending)(const std::string& field),
                                       bool fixed_direction);

// A row's place in a sorted list: a number or a text, then the customer id (ascending).
struct SortKey {
  int64_t number = 0;
  std::string text;
  std::string customer_id;
};

// Whether `a` comes before `b` in the order (by `text` when by_text, else by `number`).
bool KeyBefore(const SortKey& a, const SortKey& b, bool by_text, bool descending);

// One page of a list sorted by KeyBefore.
struct PageSlice {
  size_t begin = 0;
  size_t end = 0;
  std::string next_page_token;
};

// The rows after the token's key (the first rows without a token), at most `page_size`;
// a next token when more follow. The token is bound to `kind`, the tenant and `binding`
// (every listing parameter but page_size and page_token): PAGE_TOKEN_INVALID /
// PAGE_TOKEN_MISMATCH otherwise.
absl::StatusOr<PageSlice> SlicePage(const std::vector<SortKey>& sorted_keys, bool by_text,
                                    bool descending, int page_size, const std::string& page_token,
                                    const std::string& kind, const std::string& tenant_id,
                                    const std::string& binding);

// What a listing's page is bound to and where it resumes.
struct PageRequest {
  int page_size = 0;
  std::string page_token;
  std::string kind;  // names the RPC in the token
  std::string tenant_id;
  std::string binding;  // every listing parameter but page_size and page_token
};

// The rows (indices 0..n-1) of one page, in order, and the next token.
struct SortedPage {
  std::vector<size_t> rows;
  std::string next_page_token;
};

// Sorts n rows by `key_of(i)` (a SortKey) in `order` (by text for "display_name") and
// slices the page of `page`.
template <typename KeyOf>
absl::StatusOr<SortedPage> SortAndSlice(size_t n, KeyOf key_of, const SortOrder& order,
                                        const PageRequest& page) {
  const bool by_text = order.field == "display_name";
  std::vector<std::pair<SortKey, size_t>> keyed;
  keyed.reserve(n);
  for (size_t i = 0; i < n; ++i) keyed.push_back({key_of(i), i});
  std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return KeyBefore(a.first, b.first, by_text, order.descending);
  });
  std::vector<SortKey> keys;
  keys.reserve(n);
  for (const auto& k : keyed) keys.push_back(k.first);
  absl::StatusOr<PageSlice> slice =
      SlicePage(keys, by_text, order.descending, page.page_size, page.page_token, page.kind,
                page.tenant_id, page.binding);
  if (!slice.ok()) return slice.status();
  SortedPage out;
  for (size_t i = slice->begin; i < slice->end; ++i) out.rows.push_back(keyed[i].second);
  out.next_page_token = slice->next_page_token;
  return out;
}

}  // namespace kelola::report::app
