#pragma once

// Internal to customer-svc's query side (customer_query.h): the SQL pieces shared by the
// stats projection, lists, search and duplicates. Table aliases in the
// SQL built here: c = customers, s = customer_stats.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/store/customer_query.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/db/database.h"

namespace kelola::customer::store::query_sql {

// customer_stats.activity_asc_key / activity_desc_key of a customer without activity, so
// that it sorts last in either direction.
inline constexpr int64_t kNoActivityAscKey = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kNoActivityDescKey = std::numeric_limits<int64_t>::min();
inline constexpr int kStateActive = v1::CUSTOMER_STATE_ACTIVE;
inline constexpr int kStateArchived = v1::CUSTOMER_STATE_ARCHIVED;
inline constexpr int kStateMerged = v1::CUSTOMER_STATE_MERGED;
inline constexpr int kStateErased = v1::CUSTOMER_STATE_ERASED;

// Calls fn(begin, end) for each run [begin, end) of at most db::kValuesPerInList of `count`
// values, the values one IN (...) list binds, in order; stops at the first error.
absl::Status ForEachInListChunk(size_t count,
                                absl::FunctionRef<absl::Status(size_t begin, size_t end)> fn);

// Calls fn(row) for each row of `SELECT customer_id, <columns> FROM customers` of `tenant`'s
// customers `ids`, read in IN-list chunks; ids without a row are not called, and rows come in
// no particular order. Stops at the first error.
absl::Status ForEachCustomerRow(db::Transaction& tx, const std::string& tenant,
                                const std::vector<std::string>& ids, absl::string_view columns,
                                absl::FunctionRef<void(const db::Row&)> fn);

// The 7 stats columns of customer_stats s, in the order StatsFromRow reads them.
inline constexpr char kStatsColumns[] =
    "s.total_spent_minor, s.transaction_count, s.balance_minor, s.first_purchase_micros, "
    "s.last_purchase_micros, s.last_activity_micros, s.ledger_version";

// The same characters as a std::string_view (for libs taking the standard type).
inline std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Whether the transaction runs on PostgreSQL.
bool IsPg(const db::Transaction& tx);

// Bytewise comparison of text on PostgreSQL (SQLite's default BINARY already is): a
// COLLATE clause to append, or "".
const char* CollC(const db::Transaction& tx);

// Reads the kStatsColumns starting at column `i`: total, count, balance, first, last
// purchase, last activity, ledger version.
CustomerStatsRecord StatsFromRow(const db::Row& row, size_t i);

// Which states a listing shows: a `state` term, else ACTIVE (+ ARCHIVED when asked).
std::vector<int64_t> StatesOf(const domain::ListFilter& filter, bool show_archived);

// What a listing's filter is evaluated against, fixed for all its pages.
struct FilterContext {
  int64_t now_micros = 0;
  // top_spender_percent: the total_spent a customer needs; nullopt = nobody qualifies.
  std::optional<int64_t> top_threshold;
};

// Appends " AND c.state ..." for `states` (not empty) to `sql`, its values to `params`.
void AppendStates(const std::vector<int64_t>& states, std::string* sql,
                  std::vector<db::Value>* params);

// Appends the conditions of `f` other than the state (" AND ..." over c and s) to `sql`,
// their values to `params`.
void AppendFilter(const domain::ListFilter& f, const FilterContext& ctx, std::string* sql,
                  std::vector<db::Value>* params);

// Whether AppendFilter's conditions for `f` read customer_stats (s.*). Kept next to
// AppendFilter: a new stats condition there must be listed here.
bool FilterReadsStats(const domain::ListFilter& f);

// The "now" and top-spender threshold of a listing: computed on the first page, carried in
// the token afterwards (ContextValues) so that every page applies the same conditions.
absl::StatusOr<FilterContext> FirstPageContext(db::Transaction& tx, absl::string_view tenant,
                                               const domain::ListFilter& filter, absl::Time now);

// The first two values of a page token: now and top-spender threshold.
std::vector<std::string> ContextValues(const FilterContext& ctx);

// Reads ContextValues back from the start of `v`; false when they are malformed.
bool ContextFromValues(const std::vector<std::string>& v, FilterContext* ctx);

// How a list order reads in SQL.
struct SortSpec {
  bool customers_driven = true;  // key column in customers (else customer_stats)
  bool text_key = false;
  std::string key;    // e.g. "c.name_sort_key"
  std::string id;     // "c.customer_id" or "s.customer_id"
  std::string index;  // SQLite INDEXED BY (one ascending index for both directions)
};

// The key column, id column and index of a list order.
SortSpec SortOf(const domain::ListOrder& order);

// Whether a row sorts before another in a list order: by their keys (the text keys when
// `sort.text_key`, else the integer keys), then by id; both reversed when `descending`, so
// that one ascending index serves both directions (scanned backwards for `desc`).
bool SortsBefore(const SortSpec& sort, bool descending, const std::string& a_text, int64_t a_int,
                 const std::string& a_id, const std::string& b_text, int64_t b_int,
                 const std::string& b_id);

}  // namespace kelola::customer::store::query_sql
