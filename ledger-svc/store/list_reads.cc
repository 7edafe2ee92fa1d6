// The List reads of LedgerStore: sales, payments, receivables and credit limits, each page
// in one read-only transaction, from a checked query (list_queries.h). The filter's
// conditions become SQL conditions in their order; a page resumes after the previous
// page's last sort key with a keyset condition.

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"

namespace kelola::ledger {

using entries::BuildPayment;
using entries::BuildSale;
using entries::DayText;
using entries::kPaymentSelect;
using entries::kPaymentUnallocated;
using entries::kSaleOutstanding;
using entries::kSaleSelect;
using entries::kSaleStatus;
using entries::PaymentFactsFromRow;
using entries::Row;
using entries::SaleFacts;
using entries::SaleFactsFromRow;
using entries::Transaction;
using entries::Value;

namespace {

db::TransactionOptions ReadOnly() {
  db::TransactionOptions options;
  options.read_only = true;
  return options;
}

// The serialized size of a page's entries: the first entry always fits, later ones only
// while the page stays within `max_bytes` (each counted with its field tag and length).
class PageBudget {
 public:
  explicit PageBudget(size_t max_bytes) : max_bytes_(max_bytes) {}

  bool Take(const google::protobuf::Message& entry) {
    const size_t size = entry.ByteSizeLong() + 16;
    if (used_ > 0 && used_ + size > max_bytes_) return false;
    used_ += size;
    return true;
  }

 private:
  size_t max_bytes_;
  size_t used_ = 0;
};

// Keeps a list to the principal's stores (nothing without a store limit): a condition of
// the query itself, so that pages stay full and page tokens resume where they should.
void RestrictToStores(const LedgerContext& ctx, absl::string_view column, std::string* where,
                      std::vector<Value>* params) {
  if (ctx.stores.empty()) return;
  absl::StrAppend(where, " AND ", column, " IN (");
  for (size_t i = 0; i < ctx.stores.size(); ++i) {
    absl::StrAppend(where, i == 0 ? "?" : ", ?");
    params->push_back(ctx.stores[i]);
  }
  absl::StrAppend(where, ")");
}

void AppendTimeBound(const TimeBound& bound, absl::string_view column, std::string* where,
                     std::vector<Value>* params) {
  static constexpr const char* kOps[] = {"<", "<=", ">", ">="};  // by TimeBound::Op
  absl::StrAppend(where, " AND ", column, " ", kOps[bound.op], " ?");
  params->emplace_back(std::in_place_type<int64_t>, bound.micros);
}

// `column` = or <> `value`.
void AppendEquality(absl::string_view column, bool equal, Value value, std::string* where,
                    std::vector<Value>* params) {
  absl::StrAppend(where, " AND ", column, equal ? " = ?" : " <> ?");
  params->push_back(std::move(value));
}

// Conditions on the columns of kSaleSelect's derived table; `today` for overdue.
void AppendSaleCondition(const SaleCondition& condition, absl::CivilDay today, std::string* where,
                         std::vector<Value>* params) {
  if (const auto* bound = std::get_if<TimeBound>(&condition)) {
    AppendTimeBound(*bound, "sale_time_micros", where, params);
  } else if (const auto* status = std::get_if<SaleStatusIs>(&condition)) {
    AppendEquality(kSaleStatus, status->equal, static_cast<int64_t>(status->status), where, params);
  } else if (const auto* open = std::get_if<SaleOpen>(&condition)) {
    absl::StrAppend(where, " AND ", kSaleOutstanding, open->open ? " > 0" : " = 0");
  } else if (const auto* overdue = std::get_if<SaleOverdue>(&condition)) {
    const std::string cond =
        absl::StrCat("(", kSaleOutstanding, " > 0 AND due_date IS NOT NULL AND due_date < ?)");
    absl::StrAppend(where, " AND ", overdue->overdue ? cond : absl::StrCat("NOT ", cond));
    params->push_back(DayText(today));
  } else if (const auto* store = std::get_if<StoreIs>(&condition)) {
    AppendEquality("store_id", store->equal, store->store_id, where, params);
  } else if (const auto* walk_in = std::get_if<SaleWalkIn>(&condition)) {
    absl::StrAppend(where, walk_in->walk_in ? " AND customer_id = ''" : " AND customer_id <> ''");
  }
}

// Conditions on the columns of kPaymentSelect's derived table.
void AppendPaymentCondition(const PaymentCondition& condition, std::string* where,
                            std::vector<Value>* params) {
  if (const auto* bound = std::get_if<TimeBound>(&condition)) {
    AppendTimeBound(*bound, "received_time_micros", where, params);
  } else if (const auto* method = std::get_if<PaymentMethodIs>(&condition)) {
    AppendEquality("method", method->equal, static_cast<int64_t>(method->method), where, params);
  } else if (const auto* status = std::get_if<PaymentStatusIs>(&condition)) {
    AppendEquality("(CASE WHEN voided > 0 THEN 2 ELSE 1 END)", status->equal,
                   static_cast<int64_t>(status->status), where, params);
  } else if (const auto* origin = std::get_if<PaymentOriginIs>(&condition)) {
    AppendEquality("origin", origin->equal, static_cast<int64_t>(origin->origin), where, params);
  } else if (const auto* store = std::get_if<StoreIs>(&condition)) {
    AppendEquality("store_id", store->equal, store->store_id, where, params);
  } else if (const auto* credit = std::get_if<PaymentHasCredit>(&condition)) {
    absl::StrAppend(where, " AND ", kPaymentUnallocated, credit->has_credit ? " > 0" : " = 0");
  }
}

// The tenant's sales or payments (`alias` s or p of `select`), one customer's when
// `customer_id` is set, at the principal's stores.
std::string EntryScope(const LedgerContext& ctx, absl::string_view alias,
                       const std::string& customer_id, std::vector<Value>* params) {
  std::string inner = absl::StrCat(" WHERE ", alias, ".tenant_id = ?");
  params->push_back(ctx.tenant_id);
  if (!customer_id.empty()) {
    absl::StrAppend(&inner, " AND ", alias, ".customer_id = ?");
    params->push_back(customer_id);
  }
  RestrictToStores(ctx, absl::StrCat(alias, ".store_id"), &inner, params);
  return inner;
}

// A page's SELECT over `select` + `inner` (EntryScope) filtered by `where`, ordered by
// (`time_column`, number), after `after`, at least one row more than the page to tell
// whether more follow (db::LimitAtLeast; ReadEntryPage keeps the page).
std::string EntryPageSql(absl::string_view select, const std::string& inner, std::string where,
                         absl::string_view time_column, bool ascending,
                         const std::optional<EntryKey>& after, int page_size,
                         std::vector<Value>* params) {
  const char* op = ascending ? ">" : "<";
  if (after.has_value()) {
    absl::StrAppend(&where, " AND (", time_column, " ", op, " ? OR (", time_column,
                    " = ? AND number ", op, " ?))");
    params->insert(params->end(), {after->time_micros, after->time_micros, after->number});
  }
  const char* dir = ascending ? "ASC" : "DESC";
  return absl::StrCat("SELECT * FROM (", select, inner, ") d", where, " ORDER BY ", time_column,
                      " ", dir, ", number ", dir, db::LimitAtLeast(page_size + 1));
}

// Reads a page of entries with `sql` (EntryPageSql): the records `build` makes of the rows,
// at most `page_size` and fewer once `max_bytes` would be passed, and the sort key of the
// last one when more follow.
template <typename Record, typename Build>
absl::Status ReadEntryPage(db::Database& db, const std::string& sql,
                           const std::vector<Value>& params, int page_size, size_t max_bytes,
                           Build build, std::vector<Record>& records,
                           std::optional<EntryKey>& next_after) {
  return db.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        records.clear();
        next_after.reset();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        PageBudget budget(max_bytes);
        size_t taken = 0;
        for (; taken < rows.size() && static_cast<int>(taken) < page_size; ++taken) {
          LEDGER_ASSIGN_OR_RETURN(record, build(tx, rows[taken]));
          if (!budget.Take(record)) break;
          records.push_back(std::move(record));
        }
        if (rows.size() > taken) {
          next_after = EntryKey{rows[taken - 1].GetInt(4), rows[taken - 1].GetInt(5)};
        }
        return absl::OkStatus();
      },
      ReadOnly());
}

}  // namespace

absl::StatusOr<SalePage> LedgerStore::ListSales(const LedgerContext& ctx,
                                                const SaleListQuery& query) {
  const absl::CivilDay today = Today(ctx);
  std::vector<Value> params;
  const std::string inner = EntryScope(ctx, "s", query.customer_id, &params);
  std::string where = " WHERE 1 = 1";
  for (const SaleCondition& c : query.conditions) AppendSaleCondition(c, today, &where, &params);
  const std::string sql = EntryPageSql(kSaleSelect, inner, std::move(where), "sale_time_micros",
                                       query.oldest_first, query.after, query.page_size, &params);
  SalePage page;
  absl::Status status = ReadEntryPage(
      db_, sql, params, query.page_size, max_page_bytes_,
      [&](Transaction& tx, const Row& row) {
        return BuildSale(tx, ctx, SaleFactsFromRow(row), query.view, today);
      },
      page.sales, page.next_after);
  if (!status.ok()) return status;
  return page;
}

absl::StatusOr<PaymentPage> LedgerStore::ListPayments(const LedgerContext& ctx,
                                                      const PaymentListQuery& query) {
  std::vector<Value> params;
  const std::string inner = EntryScope(ctx, "p", query.customer_id, &params);
  std::string where = " WHERE 1 = 1";
  for (const PaymentCondition& c : query.conditions) AppendPaymentCondition(c, &where, &params);
  const std::string sql =
      EntryPageSql(kPaymentSelect, inner, std::move(where), "received_time_micros",
                   query.oldest_first, query.after, query.page_size, &params);
  PaymentPage page;
  absl::Status status = ReadEntryPage(
      db_, sql, params, query.page_size, max_page_bytes_,
      [&](Transaction& tx, const Row& row) {
        return BuildPayment(tx, ctx, PaymentFactsFromRow(row));
      },
      page.payments, page.next_after);
  if (!status.ok()) return status;
  return page;
}

// ---------------------------------------------------------------------------------
// Receivables

namespace {

// A customer who owes: the sums of its open sales, and its category as last reported.
struct Owing {
  Receivable receivable;
  std::string category_id;
};

// Adds an open sale (a kSaleSelect row) to its customer's sums.
absl::Status AddOpenSale(const Row& row, absl::CivilDay today,
                         std::map<std::string, Owing>& owing) {
  const SaleFacts f = SaleFactsFromRow(row);
  auto [it, added] = owing.try_emplace(row.GetText(8));
  Receivable& r = it->second.receivable;
  if (added) {
    r.customer_id = it->first;
    r.oldest_open_sale_micros = INT64_MAX;
  }
  const int64_t out = f.amounts.outstanding();
  LEDGER_ASSIGN_OR_RETURN(sum, AddToTotal(r.balance, out, "balance"));
  r.balance = sum;
  ++r.open_sale_count;
  r.oldest_open_sale_micros = std::min(r.oldest_open_sale_micros, f.sale_time_micros);
  const int32_t d = DaysOverdue(f.due, out, today);
  if (d > 0) {
    LEDGER_ASSIGN_OR_RETURN(overdue, AddToTotal(r.overdue_amount, out, "overdue_amount"));
    r.overdue_amount = overdue;
    r.days_overdue = std::max(r.days_overdue, d);
  }
  return absl::OkStatus();
}

// Each owing customer's ledger row (version, credit, category) and last payment: two bulk
// reads instead of two queries per customer.
absl::Status AddLedgerRows(Transaction& tx, const LedgerContext& ctx,
                           std::map<std::string, Owing>& owing) {
  LEDGER_ASSIGN_OR_RETURN(ledgers,
                          tx.Query("SELECT customer_id, ledger_version, credit, category_id FROM "
                                   "customer_ledgers WHERE tenant_id = ?",
                                   {ctx.tenant_id}));
  for (const Row& row : ledgers) {
    auto it = owing.find(row.GetText(0));
    if (it == owing.end()) continue;
    it->second.receivable.ledger_version = row.GetInt(1);
    it->second.receivable.credit = row.GetInt(2);
    it->second.category_id = row.GetText(3);
  }
  LEDGER_ASSIGN_OR_RETURN(
      last_payments,
      tx.Query("SELECT p.customer_id, MAX(p.received_time_micros) FROM payments p WHERE "
               "p.tenant_id = ? AND p.customer_id <> '' AND NOT EXISTS (SELECT 1 FROM "
               "voids v WHERE v.tenant_id = p.tenant_id AND v.entity = 'payment' AND "
               "v.entity_id = p.payment_id) GROUP BY p.customer_id",
               {ctx.tenant_id}));
  for (const Row& row : last_payments) {
    auto it = owing.find(row.GetText(0));
    if (it == owing.end()) continue;
    it->second.receivable.last_payment_micros = row.GetInt(1);
  }
  return absl::OkStatus();
}

// Every customer with open sales (at `store_id` when set, at the principal's stores), by id.
absl::StatusOr<std::map<std::string, Owing>> ReadOwing(db::Database& db, const LedgerContext& ctx,
                                                       const std::string& store_id,
                                                       absl::CivilDay today) {
  std::string sql = absl::StrCat("SELECT * FROM (", kSaleSelect,
                                 " WHERE s.tenant_id = ? AND s.customer_id <> '') d WHERE ",
                                 kSaleOutstanding, " > 0");
  std::vector<Value> params = {ctx.tenant_id};
  if (!store_id.empty()) {
    sql += " AND store_id = ?";
    params.push_back(store_id);
  }
  RestrictToStores(ctx, "store_id", &sql, &params);
  std::map<std::string, Owing> owing;
  absl::Status status = db.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        owing.clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        for (const Row& row : rows) {
          LEDGER_RETURN_IF_ERROR(AddOpenSale(row, today, owing));
        }
        return AddLedgerRows(tx, ctx, owing);
      },
      ReadOnly());
  if (!status.ok()) return status;
  return owing;
}

bool AboveAll(int64_t value, const std::vector<Minimum>& minimums) {
  for (const Minimum& m : minimums) {
    if (m.inclusive ? value < m.value : value <= m.value) return false;
  }
  return true;
}

bool Matches(const ReceivableListQuery& query, const Owing& o) {
  const Receivable& r = o.receivable;
  if (query.overdue.has_value() && *query.overdue != (r.overdue_amount > 0)) return false;
  if (query.category_id.has_value() && *query.category_id != o.category_id) return false;
  return AboveAll(r.balance, query.min_balance) && AboveAll(r.days_overdue, query.min_days_overdue);
}

// The sort key of `r` in `order`: ascending, so the descending orders negate.
int64_t SortKey(ReceivableListQuery::Order order, const Receivable& r) {
  switch (order) {
    case ReceivableListQuery::kOldestOpenSaleAsc:
      return r.oldest_open_sale_micros;
    case ReceivableListQuery::kDaysOverdueDesc:
      return -static_cast<int64_t>(r.days_overdue);
    case ReceivableListQuery::kOverdueAmountDesc:
      return -r.overdue_amount;
    case ReceivableListQuery::kBalanceDesc:
      break;
  }
  return -r.balance;
}

// The matching customers in the query's order, the page of them after `query.after`, and
// the totals over all of them.
absl::StatusOr<ReceivablePage> SelectReceivables(const ReceivableListQuery& query,
                                                 const std::map<std::string, Owing>& owing) {
  ReceivablePage page;
  std::vector<ReceivableKey> keys;
  for (const auto& [customer, o] : owing) {
    if (!Matches(query, o)) continue;
    LEDGER_ASSIGN_OR_RETURN(total,
                            AddToTotal(page.total_balance, o.receivable.balance, "total_balance"));
    page.total_balance = total;
    LEDGER_ASSIGN_OR_RETURN(
        overdue,
        AddToTotal(page.total_overdue_amount, o.receivable.overdue_amount, "total_overdue_amount"));
    page.total_overdue_amount = overdue;
    keys.push_back({SortKey(query.order, o.receivable), customer});
  }
  auto before = [](const ReceivableKey& x, const ReceivableKey& y) {
    return x.key != y.key ? x.key < y.key : x.customer_id < y.customer_id;
  };
  std::sort(keys.begin(), keys.end(), before);
  auto start = keys.begin();
  if (query.after.has_value()) {
    start = std::upper_bound(keys.begin(), keys.end(), *query.after, before);
  }
  const auto end = keys.end() - start > query.page_size ? start + query.page_size : keys.end();
  for (auto it = start; it != end; ++it) {
    page.receivables.push_back(owing.at(it->customer_id).receivable);
  }
  if (end != keys.end() && end != start) page.next_after = *(end - 1);
  page.customer_count = static_cast<int64_t>(keys.size());
  return page;
}

}  // namespace

absl::StatusOr<ReceivablePage> LedgerStore::ListReceivables(const LedgerContext& ctx,
                                                            const ReceivableListQuery& query) {
  const absl::CivilDay today = Today(ctx);
  LEDGER_ASSIGN_OR_RETURN(owing, ReadOwing(db_, ctx, query.store_id, today));
  LEDGER_ASSIGN_OR_RETURN(page, SelectReceivables(query, owing));
  page.as_of = today;
  return page;
}

// ---------------------------------------------------------------------------------
// Credit limits

absl::StatusOr<CreditLimitPage> LedgerStore::ListCreditLimits(const LedgerContext& ctx,
                                                              const CreditLimitListQuery& query) {
  std::string where = "tenant_id = ? AND deleted = 0";
  std::vector<Value> params = {ctx.tenant_id};
  if (!query.subject.empty()) {
    where += " AND subject = ?";
    params.push_back(query.subject);
  }
  const std::string key_col =
      query.order == CreditLimitListQuery::kLimitDesc ? "limit_minor" : "update_time_micros";
  if (query.after.has_value()) {
    const CreditLimitKey& after = *query.after;
    where += absl::StrCat(" AND (", key_col, " < ? OR (", key_col,
                          " = ? AND (subject_id > ? OR (subject_id = ? AND subject > ?))))");
    params.insert(params.end(),
                  {after.key, after.key, after.subject_id, after.subject_id, after.subject});
  }
  const std::string sql =
      absl::StrCat("SELECT record, ", key_col, ", subject_id, subject FROM ",
                   "credit_limits WHERE ", where, " ORDER BY ", key_col,
                   " DESC, subject_id ASC, subject ASC", db::LimitAtLeast(query.page_size + 1));
  CreditLimitPage page;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        page = CreditLimitPage();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        for (size_t i = 0; i < rows.size() && static_cast<int>(i) < query.page_size; ++i) {
          page.credit_limits.emplace_back().ParseFromString(rows[i].GetBytes(0));
        }
        if (static_cast<int>(rows.size()) > query.page_size) {
          const Row& last = rows[query.page_size - 1];
          page.next_after = CreditLimitKey{last.GetInt(1), last.GetText(2), last.GetText(3)};
        }
        return absl::OkStatus();
      },
      ReadOnly());
  if (!status.ok()) return status;
  return page;
}

}  // namespace kelola::ledger
