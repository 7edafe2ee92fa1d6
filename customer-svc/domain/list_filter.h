#pragma once

// The listing parameters of ListCustomers / SearchCustomers (C12, C13): a parser for the
// AIP-160 subset that `ListCustomersRequest.filter` documents, the `order_by` values, and
// the page size rule of the v1 contract. Pure: no SQL, no gRPC.
//
// Filter grammar (see customer_service.proto for the meaning of each term):
//   filter     := "" | term ( "AND" term )*
//   term       := field op value
//   field      := category_id | state | create_time | has_balance | no_transactions |
//                 total_spent | top_spender_percent | active_within_days |
//                 inactive_for_days | consent
//   op         := "=" | "!=" | ">" | ">=" | "<" | "<="
//   value      := "\"" chars "\"" (escapes \" and \\) | bare word (digits, letters, '_',
//                 '-', '+', ':', '.')
// Keywords and field names are case-sensitive. Each field at most once, except the
// range fields create_time and total_spent (at most twice). Errors are INVALID_ARGUMENT
// with reason INVALID_FILTER, metadata `position` (0-based code point offset) and
// `detail`, and a BadRequest violation on the field `filter`.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kelola::customer::domain {

inline constexpr char kReasonInvalidFilter[] = "INVALID_FILTER";
inline constexpr char kReasonInvalidOrderBy[] = "INVALID_ORDER_BY";

enum class CompareOp { kEq, kNe, kGt, kGe, kLt, kLe };

// One bound of a range term, e.g. create_time >= T.
template <typename T>
struct Bound {
  CompareOp op = CompareOp::kEq;
  T value{};
};

// A parsed filter. Unset optionals mean "no condition".
struct ListFilter {
  // category_id = "x" (equal = true) or != "x" (equal = false); "" means no category.
  struct Category {
    std::string id;
    bool equal = true;
  };
  std::optional<Category> category;
  // state = <CustomerState number> (1 ACTIVE ... 5 ERASED).
  std::optional<int> state;
  std::vector<Bound<absl::Time>> create_time;  // 0-2 bounds, ops > >= < <=
  std::optional<bool> has_balance;
  std::optional<bool> no_transactions;
  std::vector<Bound<int64_t>> total_spent;  // 0-2 bounds, ops = > >= < <=
  std::optional<int> top_spender_percent;   // 1..100
  std::optional<int> active_within_days;    // >= 1
  std::optional<int> inactive_for_days;     // >= 1
  // consent = <MarketingConsentState number> (0 UNSPECIFIED, 1 GRANTED, 2 WITHDRAWN).
  std::optional<int> consent;

  // A canonical text of the filter (independent of spacing and term order), for binding
  // page tokens.
  std::string Canonical() const;
};

// Parses `filter`. Empty (or only white space) gives an empty ListFilter.
absl::StatusOr<ListFilter> ParseListFilter(absl::string_view filter);

enum class SortField { kDisplayName, kCreateTime, kTotalSpent, kLastActivityTime, kBalance };

struct ListOrder {
  SortField field = SortField::kDisplayName;
  bool descending = false;
  // "display_name asc", "total_spent desc", ...
  std::string Canonical() const;
};

// Parses `order_by`: one field optionally followed by "asc" or "desc"; empty means
// "display_name". Anything else: INVALID_ARGUMENT INVALID_ORDER_BY (metadata order_by,
// violation on `order_by`).
absl::StatusOr<ListOrder> ParseListOrder(absl::string_view order_by);

// page_size of the v1 contract (AIP-158): 0 -> `default_size`, above `max_size` ->
// `max_size`, negative -> INVALID_ARGUMENT naming `page_size`.
absl::StatusOr<int> ListPageSize(int page_size, int default_size, int max_size);

inline constexpr int kListDefaultPageSize = 50;
inline constexpr int kListMaxPageSize = 500;
inline constexpr int kSearchDefaultPageSize = 20;
inline constexpr int kSearchMaxPageSize = 100;

}  // namespace kelola::customer::domain
