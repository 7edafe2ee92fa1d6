#include "customer-svc/store/query_sql.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kelola::customer::store::query_sql {
namespace {

using db::Placeholders;
using db::Value;
using domain::ListFilter;
using domain::ListOrder;
using domain::SortField;

std::optional<absl::Time> OptTime(const db::Row& row, size_t i) {
  auto v = row.GetOptionalInt(i);
  if (!v) return std::nullopt;
  return absl::FromUnixMicros(*v);
}

const char* SqlOp(domain::CompareOp op) {
  switch (op) {
    case domain::CompareOp::kEq:
      return " = ";
    case domain::CompareOp::kNe:
      return " <> ";
    case domain::CompareOp::kGt:
      return " > ";
    case domain::CompareOp::kGe:
      return " >= ";
    case domain::CompareOp::kLt:
      return " < ";
    case domain::CompareOp::kLe:
      return " <= ";
  }
  return " = ";
}

}  // namespace

absl::Status ForEachInListChunk(size_t count,
                                absl::FunctionRef<absl::Status(size_t begin, size_t end)> fn) {
  for (size_t begin = 0; begin < count; begin += db::kValuesPerInList) {
    if (absl::Status s = fn(begin, std::min(count, begin + db::kValuesPerInList)); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ForEachCustomerRow(db::Transaction& tx, const std::string& tenant,
                                const std::vector<std::string>& ids, absl::string_view columns,
                                absl::FunctionRef<void(const db::Row&)> fn) {
  return ForEachInListChunk(ids.size(), [&](size_t begin, size_t end) -> absl::Status {
    std::vector<db::Value> params = {tenant};
    for (size_t i = begin; i < end; ++i) params.push_back(ids[i]);
    auto rows = tx.Query(absl::StrCat("SELECT customer_id, ", columns,
                                      " FROM customers WHERE tenant_id = ? AND customer_id IN (",
                                      db::Placeholders(end - begin), ")"),
                         params);
    if (!rows.ok()) return rows.status();
    for (const db::Row& row : *rows) fn(row);
    return absl::OkStatus();
  });
}

bool IsPg(const db::Transaction& tx) { return tx.dialect() == db::Dialect::kPostgres; }

const char* CollC(const db::Transaction& tx) { return IsPg(tx) ? " COLLATE \"C\"" : ""; }

CustomerStatsRecord StatsFromRow(const db::Row& row, size_t i) {
  CustomerStatsRecord s;
  s.total_spent_minor = row.GetInt(i);
  s.transaction_count = row.GetInt(i + 1);
  s.balance_minor = row.GetInt(i + 2);
  s.first_purchase_time = OptTime(row, i + 3);
  s.last_purchase_time = OptTime(row, i + 4);
  s.last_activity_time = OptTime(row, i + 5);
  s.ledger_version = row.GetInt(i + 6);
  return s;
}

std::vector<int64_t> StatesOf(const ListFilter& filter, bool show_archived) {
  if (filter.state) return {*filter.state};
  if (show_archived) return {kStateActive, kStateArchived};
  return {kStateActive};
}

void AppendStates(const std::vector<int64_t>& states, std::string* sql,
                  std::vector<Value>* params) {
  if (states.size() == 1) {
    absl::StrAppend(sql, " AND c.state = ?");
  } else {
    absl::StrAppend(sql, " AND c.state IN (", Placeholders(states.size()), ")");
  }
  for (int64_t s : states) params->emplace_back(s);
}

void AppendFilter(const ListFilter& f, const FilterContext& ctx, std::string* sql,
                  std::vector<Value>* params) {
  if (f.category) {
    if (f.category->id.empty()) {
      absl::StrAppend(sql, f.category->equal
                               ? " AND (c.category_id IS NULL OR c.category_id = '')"
                               : " AND (c.category_id IS NOT NULL AND c.category_id <> '')");
    } else if (f.category->equal) {
      absl::StrAppend(sql, " AND c.category_id = ?");
      params->emplace_back(f.category->id);
    } else {
      absl::StrAppend(sql, " AND (c.category_id IS NULL OR c.category_id <> ?)");
      params->emplace_back(f.category->id);
    }
  }
  for (const auto& b : f.create_time) {
    absl::StrAppend(sql, " AND c.create_time_micros", SqlOp(b.op), "?");
    params->emplace_back(absl::ToUnixMicros(b.value));
  }
  if (f.has_balance) {
    absl::StrAppend(sql, *f.has_balance ? " AND s.balance_minor > 0" : " AND s.balance_minor <= 0");
  }
  if (f.no_transactions) {
    // No sales means nothing spent: the implied total_spent = 0 lets a total_spent sort
    // seek to its range instead of scanning past every buyer.
    absl::StrAppend(sql, *f.no_transactions
                             ? " AND s.transaction_count = 0 AND s.total_spent_minor = 0"
                             : " AND s.transaction_count > 0");
  }
  for (const auto& b : f.total_spent) {
    absl::StrAppend(sql, " AND s.total_spent_minor", SqlOp(b.op), "?");
    params->emplace_back(b.value);
  }
  if (f.top_spender_percent) {
    if (ctx.top_threshold) {
      absl::StrAppend(sql, " AND s.transaction_count > 0 AND s.total_spent_minor >= ?");
      params->emplace_back(*ctx.top_threshold);
    } else {
      absl::StrAppend(sql, " AND 1 = 0");
    }
  }
  constexpr int64_t kDayMicros = int64_t{86400} * 1000000;
  // The activity key columns restate the condition so that an activity sort seeks to it.
  if (f.active_within_days) {
    const int64_t since = ctx.now_micros - *f.active_within_days * kDayMicros;
    absl::StrAppend(sql,
                    " AND s.last_activity_micros >= ? AND s.activity_desc_key >= ? AND "
                    "s.activity_asc_key >= ?");
    params->insert(params->end(), {since, since, since});
  }
  if (f.inactive_for_days) {
    const int64_t since = ctx.now_micros - *f.inactive_for_days * kDayMicros;
    absl::StrAppend(sql,
                    " AND (s.last_activity_micros IS NULL OR s.last_activity_micros < ?)"
                    " AND s.activity_desc_key < ? AND c.create_time_micros < ?");
    params->insert(params->end(), {since, since, since});
  }
  if (f.consent) {
    absl::StrAppend(sql, " AND c.consent_state = ?");
    params->emplace_back(static_cast<int64_t>(*f.consent));
  }
}

bool SortsBefore(const SortSpec& sort, bool descending, const std::string& a_text, int64_t a_int,
                 const std::string& a_id, const std::string& b_text, int64_t b_int,
                 const std::string& b_id) {
  int cmp = 0;
  if (sort.text_key) {
    cmp = a_text.compare(b_text);
  } else {
    cmp = a_int < b_int ? -1 : (a_int > b_int ? 1 : 0);
  }
  if (cmp == 0) cmp = a_id.compare(b_id);
  return descending ? cmp > 0 : cmp < 0;
}

bool FilterReadsStats(const ListFilter& f) {
  return f.has_balance.has_value() || f.no_transactions.has_value() || !f.total_spent.empty() ||
         f.top_spender_percent.has_value() || f.active_within_days.has_value() ||
         f.inactive_for_days.has_value();
}

absl::StatusOr<FilterContext> FirstPageContext(db::Transaction& tx, absl::string_view tenant,
                                               const ListFilter& filter, absl::Time now) {
  FilterContext ctx;
  ctx.now_micros = absl::ToUnixMicros(now);
  if (filter.top_spender_percent) {
    auto count = tx.Query("SELECT buyers FROM customer_stats_summary WHERE tenant_id = ?",
                          {std::string(tenant)});
    if (!count.ok()) return count.status();
    const int64_t m = count->empty() ? 0 : (*count)[0].GetInt(0);
    if (m > 0) {
      const int64_t k = (m * *filter.top_spender_percent + 99) / 100;
      auto rows = tx.Query(
          "SELECT total_spent_minor FROM customer_stats WHERE tenant_id = ? AND "
          "transaction_count > 0 ORDER BY total_spent_minor DESC LIMIT 1 OFFSET ?",
          {std::string(tenant), k - 1});
      if (!rows.ok()) return rows.status();
      if (!rows->empty()) ctx.top_threshold = (*rows)[0].GetInt(0);
    }
  }
  return ctx;
}

std::vector<std::string> ContextValues(const FilterContext& ctx) {
  return {absl::StrCat(ctx.now_micros), ctx.top_threshold ? absl::StrCat(*ctx.top_threshold) : ""};
}

bool ContextFromValues(const std::vector<std::string>& v, FilterContext* ctx) {
  if (v.size() < 2 || !absl::SimpleAtoi(v[0], &ctx->now_micros)) return false;
  if (!v[1].empty()) {
    int64_t t = 0;
    if (!absl::SimpleAtoi(v[1], &t)) return false;
    ctx->top_threshold = t;
  }
  return true;
}

SortSpec SortOf(const ListOrder& order) {
  SortSpec s;
  switch (order.field) {
    case SortField::kDisplayName:
      s.text_key = true;
      s.key = "c.name_sort_key";
      s.index = "customers_by_name";
      break;
    case SortField::kCreateTime:
      s.key = "c.create_time_micros";
      s.index = "customers_by_created";
      break;
    case SortField::kTotalSpent:
      s.customers_driven = false;
      s.key = "s.total_spent_minor";
      s.index = "customer_stats_spent_asc";
      break;
    case SortField::kBalance:
      s.customers_driven = false;
      s.key = "s.balance_minor";
      s.index = "customer_stats_balance_asc";
      break;
    case SortField::kLastActivityTime:
      s.customers_driven = false;
      s.key = order.descending ? "s.activity_desc_key" : "s.activity_asc_key";
      s.index = order.descending ? "customer_stats_activity_desc" : "customer_stats_activity_asc";
      break;
  }
  s.id = s.customers_driven ? "c.customer_id" : "s.customer_id";
  return s;
}

}  // namespace kelola::customer::store::query_sql
