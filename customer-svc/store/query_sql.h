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

// The 7 stats columns of customer_stats s, in the order StatsFromRow reads them.
inline constexpr char kStatsColumns[] =
    "s.total_spent_minor, s.transaction_count, s.balance_minor, s.first_purchase_micros, "
    "s.last_purchase_micros, s.last_activity_micros, s.ledger_version";

// The join condition of a customer's stats row (ON of a LEFT JOIN customer_stats s).
inline constexpr char kStatsOfCustomer[] =
    "s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id";

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

// A customer has a customer_stats row only once the ledger told of it (rows are made by the
// stats feed, not at create), so a statement sees the stats of its customers in one of
// three ways. Customers without a row have zero stats: nothing spent, no transactions, no
// balance, no activity.
enum class StatsRows {
  kJoined,       // inner-joined: every customer read has a row (s.* as stored)
  kOuterJoined,  // left-joined: s.* is NULL for customers without a row
  kAbsent,       // the customers read are known to have no row
};

// The value of stats column `column` (e.g. "total_spent_minor") in SQL as `rows` sees it:
// "s.<column>", COALESCE(s.<column>, zero) or the zero itself.
std::string StatsColumn(StatsRows rows, absl::string_view column);

// Appends the conditions of `f` other than the state (" AND ..." over c and s, the stats
// as `rows` sees them) to `sql`, their values to `params`. Under kAbsent the stats
// conditions are constants, which the databases evaluate once.
void AppendFilter(const domain::ListFilter& f, const FilterContext& ctx, StatsRows rows,
                  std::string* sql, std::vector<db::Value>* params);

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
  std::string key;     // e.g. "c.name_sort_key"
  std::string column;  // stats orders: the key's customer_stats column
  // Stats orders: the key of a customer without a stats row (zero stats).
  int64_t absent_key = 0;
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
