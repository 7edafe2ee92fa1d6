// CustomerQuery::List (C12, C13): filtered, sorted, keyset-paginated lists of customers.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/query_paging.h"
#include "customer-svc/store/query_sql.h"

namespace kelola::customer::store {
namespace {

using db::Value;
using domain::ListFilter;
using domain::ListOrder;
using query_sql::FilterContext;
using query_sql::SortSpec;

struct ListRow {
  ListItem item;
  std::string text_key;
  int64_t int_key = 0;
};

// Where a page of a listing starts: the listing's filter context and, after the first page,
// the last customer of the previous page and the total counted on the first page.
struct ListCursor {
  FilterContext ctx;
  std::optional<std::pair<std::string, std::string>> after;  // last key, last id
  std::optional<int64_t> carried_total;                      // from the first page
};

// The cursor of `page_token` (PAGE_TOKEN_* errors), or of a first page at `clock`'s now.
absl::StatusOr<ListCursor> ReadListCursor(db::Transaction& tx, const std::string& tenant,
                                          const std::string& page_token, const std::string& binding,
                                          const ListFilter& filter, const SortSpec& sort,
                                          const Clock& clock) {
  ListCursor cursor;
  if (page_token.empty()) {
    auto first = query_sql::FirstPageContext(tx, tenant, filter, clock.Now());
    if (!first.ok()) return first.status();
    cursor.ctx = *first;
    return cursor;
  }
  auto values = domain::DecodeKeysetToken(page_token, "list", tenant, binding);
  if (!values.ok()) return values.status();
  // now, top-spender threshold, last key, last id[, total_size counted on the first page]
  if (values->size() < 4 || values->size() > 5 ||
      !query_sql::ContextFromValues(*values, &cursor.ctx)) {
    return query_paging::InvalidToken();
  }
  cursor.after.emplace((*values)[2], (*values)[3]);
  int64_t unused = 0;
  if (!sort.text_key && !absl::SimpleAtoi(cursor.after->first, &unused)) {
    return query_paging::InvalidToken();
  }
  if (values->size() == 5 && !(*values)[4].empty()) {
    int64_t total = 0;
    if (!absl::SimpleAtoi((*values)[4], &total) || total < 0) return query_paging::InvalidToken();
    cursor.carried_total = total;
  }
  return cursor;
}

// One listing's query: what every statement of a page binds.
struct ListQuery {
  db::Transaction& tx;
  const std::string& tenant;
  const ListFilter& filter;
  const ListOrder& order;
  const SortSpec& sort;
  const ListCursor& cursor;
  int page_size;
};

// The customers in `states` after the cursor, in the list order: page_size + 1 or a few more
// when there are as many (db::LimitAtLeast); List keeps a page of them.
absl::StatusOr<std::vector<ListRow>> QueryListRows(const ListQuery& q,
                                                   const std::vector<int64_t>& states) {
  const SortSpec& sort = q.sort;
  const std::string coll = query_sql::CollC(q.tx);
  std::vector<Value> params;
  std::string sql = absl::StrCat("SELECT c.customer_id, c.data, ", query_sql::kStatsColumns, ", ",
                                 sort.key, " FROM ");
  const std::string indexed = query_sql::IsPg(q.tx) ? "" : absl::StrCat(" INDEXED BY ", sort.index);
  if (sort.customers_driven) {
    absl::StrAppend(&sql, "customers c", indexed,
                    " CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND s.tenant_id = "
                    "c.tenant_id AND s.customer_id = c.customer_id");
  } else {
    absl::StrAppend(&sql, "customer_stats s", indexed,
                    " CROSS JOIN customers c WHERE s.tenant_id = ? AND c.tenant_id = "
                    "s.tenant_id AND c.customer_id = s.customer_id");
  }
  params.push_back(q.tenant);
  query_sql::AppendStates(states, &sql, &params);
  query_sql::AppendFilter(q.filter, q.cursor.ctx, &sql, &params);
  if (const auto& after = q.cursor.after) {
    Value key = after->first;
    if (!sort.text_key) {
      int64_t k = 0;
      (void)absl::SimpleAtoi(after->first, &k);  // checked when the token was read
      key = k;
    }
    const char* op_eq = q.order.descending ? " <= ?" : " >= ?";
    const char* op = q.order.descending ? " < ?" : " > ?";
    const std::string k = absl::StrCat(sort.key, sort.text_key ? coll : "");
    absl::StrAppend(&sql, " AND ", k, op_eq, " AND (", k, op, " OR ", sort.id, coll, op, ")");
    params.push_back(key);
    params.push_back(key);
    params.push_back(after->second);
  }
  const char* direction = q.order.descending ? " DESC" : "";
  absl::StrAppend(&sql, " ORDER BY ", sort.key, sort.text_key ? coll : "", direction, ", ", sort.id,
                  coll, direction, db::LimitAtLeast(q.page_size + 1));
  auto rows = q.tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<ListRow> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    ListRow row;
    row.item.customer_id = r.GetText(0);
    row.item.data = r.GetBytes(1);
    row.item.stats = query_sql::StatsFromRow(r, 2);
    if (sort.text_key) {
      row.text_key = r.GetText(9);
    } else {
      row.int_key = r.GetInt(9);
    }
    out.push_back(std::move(row));
  }
  return out;
}

// The rows of a page (QueryListRows' limit per statement), in the list order.
absl::StatusOr<std::vector<ListRow>> ReadListRows(const ListQuery& q,
                                                  const std::vector<int64_t>& states) {
  if (!q.sort.customers_driven || states.size() <= 1) return QueryListRows(q, states);
  // One index range per state (each in sort order), merged here.
  std::vector<ListRow> rows;
  for (int64_t state : states) {
    auto part = QueryListRows(q, {state});
    if (!part.ok()) return part.status();
    rows.insert(rows.end(), std::make_move_iterator(part->begin()),
                std::make_move_iterator(part->end()));
  }
  std::sort(rows.begin(), rows.end(), [&](const ListRow& a, const ListRow& b) {
    return query_sql::SortsBefore(q.sort, q.order.descending, a.text_key, a.int_key,
                                  a.item.customer_id, b.text_key, b.int_key, b.item.customer_id);
  });
  return rows;
}

// The number of customers in `states` passing the filter.
absl::StatusOr<int64_t> CountListed(const ListQuery& q, const std::vector<int64_t>& states) {
  std::vector<Value> params = {q.tenant};
  std::string sql =
      "SELECT COUNT(*) FROM customers c CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND "
      "s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id";
  query_sql::AppendStates(states, &sql, &params);
  query_sql::AppendFilter(q.filter, q.cursor.ctx, &sql, &params);
  auto count = q.tx.QueryOne(sql, params);
  if (!count.ok()) return count.status();
  return count->GetInt(0);
}

}  // namespace

absl::StatusOr<ListPage> CustomerQuery::List(db::Transaction& tx, absl::string_view tenant_view,
                                             const ListSpec& spec) const {
  const std::string tenant(tenant_view);
  auto filter = domain::ParseListFilter(spec.filter);
  if (!filter.ok()) return filter.status();
  auto order = domain::ParseListOrder(spec.order_by);
  if (!order.ok()) return order.status();
  auto page_size =
      domain::ListPageSize(spec.page_size, domain::kListDefaultPageSize, domain::kListMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::vector<int64_t> states = query_sql::StatesOf(*filter, spec.show_archived);
  const std::string binding = absl::StrCat("list\x1f", filter->Canonical(), "\x1f",
                                           order->Canonical(), "\x1f", absl::StrJoin(states, ","));
  const SortSpec sort = query_sql::SortOf(*order);
  auto cursor = ReadListCursor(tx, tenant, spec.page_token, binding, *filter, sort, clock_);
  if (!cursor.ok()) return cursor.status();
  const ListQuery q{tx, tenant, *filter, *order, sort, *cursor, *page_size};

  auto rows = ReadListRows(q, states);
  if (!rows.ok()) return rows.status();
  ListPage page;
  if (spec.want_total_size) {
    page.total_size = cursor->carried_total;
    if (!page.total_size) {
      auto count = CountListed(q, states);
      if (!count.ok()) return count.status();
      page.total_size = *count;
    }
  }
  // At most page_size customers, and only as many as fit the response budget.
  const size_t keep = query_paging::FitPage(
      std::min(rows->size(), static_cast<size_t>(*page_size)), spec.max_page_bytes,
      [&](size_t i) { return query_paging::PageItemBytes((*rows)[i].item.data.size()); });
  const bool more = rows->size() > keep;
  rows->resize(keep);
  if (more && !rows->empty()) {
    std::vector<std::string> values = query_sql::ContextValues(cursor->ctx);
    const ListRow& last = rows->back();
    values.push_back(sort.text_key ? last.text_key : absl::StrCat(last.int_key));
    values.push_back(last.item.customer_id);
    values.push_back(page.total_size ? absl::StrCat(*page.total_size) : "");
    page.next_page_token = domain::EncodeKeysetToken("list", tenant, binding, values);
  }
  for (auto& r : *rows) page.items.push_back(std::move(r.item));
  return page;
}

}  // namespace kelola::customer::store
