// The reads of LedgerStore: single entries, lists with filters and page tokens,
// balances, statistics and receivables. Each runs in one read-only transaction.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "kelola/ledger/v1/events.pb.h"
#include "ledger-svc/domain/filter_terms.h"
#include "ledger-svc/domain/listing.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::ledger {

using entries::AppendEvent;
using entries::BuildPayment;
using entries::BuildSale;
using entries::BumpCustomer;
using entries::Bytes;
using entries::ComputeStats;
using entries::CreditSources;
using entries::CustomerRow;
using entries::DayStartMicros;
using entries::DayText;
using entries::Err;
using entries::FindPayment;
using entries::FindSale;
using entries::GetPaymentFacts;
using entries::GetSaleFacts;
using entries::InsertAllocation;
using entries::InsertVoid;
using entries::kPaymentSelect;
using entries::kPaymentUnallocated;
using entries::kSaleOutstanding;
using entries::kSaleSelect;
using entries::kSaleStatus;
using entries::LoadAllocations;
using entries::LoadRefunds;
using entries::LoadVoidInfo;
using entries::LockCustomer;
using entries::M;
using entries::Micros;
using entries::NetAllocationsBySale;
using entries::NextCounter;
using entries::OpenSales;
using entries::ParseDay;
using entries::PaymentFacts;
using entries::PaymentFactsFromRow;
using entries::Position;
using entries::Row;
using entries::RunIdempotent;
using entries::SaleFacts;
using entries::SaleFactsFromRow;
using entries::SetTime;
using entries::ToDate;
using entries::Transaction;
using entries::Value;

// ---------------------------------------------------------------------------------
// Reads

absl::StatusOr<v1::Sale> LedgerStore::GetSale(const LedgerContext& ctx, const std::string& sale_id,
                                              v1::SaleView view) {
  v1::Sale out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(facts, GetSaleFacts(tx, ctx, sale_id));
        LEDGER_ASSIGN_OR_RETURN(sale, BuildSale(tx, ctx, facts, view, today));
        out = std::move(sale);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::Payment> LedgerStore::GetPayment(const LedgerContext& ctx,
                                                    const std::string& payment_id) {
  v1::Payment out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(facts, GetPaymentFacts(tx, ctx, payment_id));
        LEDGER_ASSIGN_OR_RETURN(p, BuildPayment(tx, ctx, facts));
        out = std::move(p);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

namespace {

// Translates date/time terms into conditions on a micros column.
absl::Status TimeTerm(const FilterTerm& t, const std::string& column, bool is_date,
                      absl::TimeZone tz, std::string* where, std::vector<Value>* params) {
  if (!t.quoted) return FilterError(t, "expects a quoted value");
  if (is_date) {
    auto day = ParseDay(t.value);
    if (!day) return FilterError(t, "expects \"YYYY-MM-DD\"");
    const int64_t start = DayStartMicros(*day, tz);
    const int64_t next = DayStartMicros(*day + 1, tz);
    if (t.op == "=") {
      absl::StrAppend(where, " AND ", column, " >= ? AND ", column, " < ?");
      params->push_back(start);
      params->push_back(next);
    } else if (t.op == ">=" || t.op == "<") {
      absl::StrAppend(where, " AND ", column, " ", t.op, " ?");
      params->push_back(start);
    } else if (t.op == ">") {
      absl::StrAppend(where, " AND ", column, " >= ?");
      params->push_back(next);
    } else if (t.op == "<=") {
      absl::StrAppend(where, " AND ", column, " < ?");
      params->push_back(next);
    } else {
      return FilterError(t, "unsupported operator");
    }
    return absl::OkStatus();
  }
  absl::Time time;
  std::string err;
  // absl also accepts "infinite-future" and years past 9999; a filter time is a timestamp
  // in protobuf's range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z).
  if (!absl::ParseTime(absl::RFC3339_full, t.value, &time, &err) ||
      time < absl::FromUnixSeconds(time::kMinTimestampSeconds) ||
      time >= absl::FromUnixSeconds(time::kMaxTimestampSeconds + 1)) {
    return FilterError(t, "expects an RFC 3339 time from 0001-01-01 to 9999-12-31");
  }
  if (t.op != ">" && t.op != ">=" && t.op != "<" && t.op != "<=") {
    return FilterError(t, "unsupported operator");
  }
  absl::StrAppend(where, " AND ", column, " ", t.op, " ?");
  params->push_back(absl::ToUnixMicros(time));
  return absl::OkStatus();
}

absl::StatusOr<bool> BoolValue(const FilterTerm& t) {
  if (t.op != "=" || t.quoted || (t.value != "true" && t.value != "false")) {
    return FilterError(t, "expects = true or = false");
  }
  return t.value == "true";
}

absl::Status EqTerm(const FilterTerm& t, const std::string& column, Value value, std::string* where,
                    std::vector<Value>* params) {
  if (t.op != "=" && t.op != "!=") return FilterError(t, "expects = or !=");
  absl::StrAppend(where, " AND ", column, " ", t.op == "=" ? "=" : "<>", " ?");
  params->push_back(std::move(value));
  return absl::OkStatus();
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

// The store limit's part of a page token's binding, so that a token is refused
// (PAGE_TOKEN_MISMATCH) for a principal limited to other stores, or to none. Empty without
// a limit, so that those tokens are bound as they always were.
std::string StoresBinding(const LedgerContext& ctx) {
  if (ctx.stores.empty()) return "";
  std::vector<std::string> stores = ctx.stores;
  std::sort(stores.begin(), stores.end());
  stores.erase(std::unique(stores.begin(), stores.end()), stores.end());
  std::string out = "|stores";
  for (const std::string& store : stores) absl::StrAppend(&out, ":", store.size(), ":", store);
  return out;
}

absl::Status OrderByError() {
  return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY",
                       "unsupported order_by", {}, {{"order_by", "unsupported order"}});
}

}  // namespace

absl::StatusOr<v1::ListSalesResponse> LedgerStore::ListSales(const LedgerContext& ctx,
                                                             const v1::ListSalesRequest& req) {
  LEDGER_ASSIGN_OR_RETURN(page_size, PageSize(req.page_size()));
  LEDGER_ASSIGN_OR_RETURN(terms, ParseFilter(req.filter()));
  LEDGER_RETURN_IF_ERROR(CheckTermsOnce(terms, {"sale_date", "sale_time"}));
  const absl::CivilDay today = Today(ctx);
  std::string inner = " WHERE s.tenant_id = ?";
  std::vector<Value> params = {ctx.tenant_id};
  if (!req.customer_id().empty()) {
    inner += " AND s.customer_id = ?";
    params.push_back(req.customer_id());
  }
  RestrictToStores(ctx, "s.store_id", &inner, &params);
  std::string where = " WHERE 1 = 1";
  const std::string outstanding = kSaleOutstanding;
  for (const FilterTerm& t : terms) {
    if (t.field == "sale_date" || t.field == "sale_time") {
      LEDGER_RETURN_IF_ERROR(
          TimeTerm(t, "sale_time_micros", t.field == "sale_date", ctx.time_zone, &where, &params));
    } else if (t.field == "status") {
      const std::vector<std::string> names = {"",     "UNPAID",   "PARTIAL",
                                              "PAID", "REFUNDED", "VOIDED"};
      auto it = std::find(names.begin() + 1, names.end(), t.value);
      if (t.quoted || it == names.end()) return FilterError(t, "unknown status");
      LEDGER_RETURN_IF_ERROR(
          EqTerm(t, kSaleStatus, static_cast<int64_t>(it - names.begin()), &where, &params));
    } else if (t.field == "open") {
      LEDGER_ASSIGN_OR_RETURN(b, BoolValue(t));
      absl::StrAppend(&where, " AND ", outstanding, b ? " > 0" : " = 0");
    } else if (t.field == "overdue") {
      LEDGER_ASSIGN_OR_RETURN(b, BoolValue(t));
      const std::string cond =
          absl::StrCat("(", outstanding, " > 0 AND due_date IS NOT NULL AND due_date < ?)");
      absl::StrAppend(&where, " AND ", b ? cond : absl::StrCat("NOT ", cond));
      params.push_back(DayText(today));
    } else if (t.field == "store_id") {
      if (!t.quoted) return FilterError(t, "expects a quoted value");
      LEDGER_RETURN_IF_ERROR(EqTerm(t, "store_id", t.value, &where, &params));
    } else if (t.field == "walk_in" && req.customer_id().empty()) {
      LEDGER_ASSIGN_OR_RETURN(b, BoolValue(t));
      absl::StrAppend(&where, b ? " AND customer_id = ''" : " AND customer_id <> ''");
    } else {
      return FilterError(t, "unknown field");
    }
  }
  bool asc = false;
  if (req.order_by() == "sale_time asc") {
    asc = true;
  } else if (!req.order_by().empty() && req.order_by() != "sale_time desc") {
    return OrderByError();
  }
  const v1::SaleView view =
      req.view() == v1::SALE_VIEW_UNSPECIFIED ? v1::SALE_VIEW_BASIC : req.view();
  const std::string binding =
      absl::StrCat(ctx.tenant_id, "|ListSales|", req.customer_id(), "|", req.filter(), "|",
                   req.order_by(), "|", req.view(), StoresBinding(ctx));
  if (!req.page_token().empty()) {
    LEDGER_ASSIGN_OR_RETURN(keys, DecodePageToken(req.page_token(), binding));
    int64_t t = 0, n = 0;
    if (keys.size() != 2 || !absl::SimpleAtoi(keys[0], &t) || !absl::SimpleAtoi(keys[1], &n)) {
      return Err(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID", "bad page_token", {},
                 {{"page_token", "cannot be read"}});
    }
    const char* op = asc ? ">" : "<";
    absl::StrAppend(&where, " AND (sale_time_micros ", op, " ? OR (sale_time_micros = ? AND ",
                    "number ", op, " ?))");
    params.insert(params.end(), {t, t, n});
  }
  const char* dir = asc ? "ASC" : "DESC";
  params.push_back(static_cast<int64_t>(page_size + 1));
  const std::string sql =
      absl::StrCat("SELECT * FROM (", kSaleSelect, inner, ") d", where,
                   " ORDER BY sale_time_micros ", dir, ", number ", dir, " LIMIT ?");
  v1::ListSalesResponse out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.Clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        PageBudget budget(max_page_bytes_);
        size_t taken = 0;
        for (; taken < rows.size() && static_cast<int>(taken) < page_size; ++taken) {
          LEDGER_ASSIGN_OR_RETURN(sale,
                                  BuildSale(tx, ctx, SaleFactsFromRow(rows[taken]), view, today));
          if (!budget.Take(sale)) break;
          *out.add_sales() = std::move(sale);
        }
        if (rows.size() > taken) {
          const Row& last = rows[taken - 1];
          out.set_next_page_token(EncodePageToken(
              binding, {absl::StrCat(last.GetInt(4)), absl::StrCat(last.GetInt(5))}));
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::ListPaymentsResponse> LedgerStore::ListPayments(
    const LedgerContext& ctx, const v1::ListPaymentsRequest& req) {
  LEDGER_ASSIGN_OR_RETURN(page_size, PageSize(req.page_size()));
  LEDGER_ASSIGN_OR_RETURN(terms, ParseFilter(req.filter()));
  LEDGER_RETURN_IF_ERROR(CheckTermsOnce(terms, {"received_date", "received_time"}));
  std::string inner = " WHERE p.tenant_id = ?";
  std::vector<Value> params = {ctx.tenant_id};
  if (!req.customer_id().empty()) {
    inner += " AND p.customer_id = ?";
    params.push_back(req.customer_id());
  }
  RestrictToStores(ctx, "p.store_id", &inner, &params);
  std::string where = " WHERE 1 = 1";
  for (const FilterTerm& t : terms) {
    if (t.field == "received_date" || t.field == "received_time") {
      LEDGER_RETURN_IF_ERROR(TimeTerm(t, "received_time_micros", t.field == "received_date",
                                      ctx.time_zone, &where, &params));
    } else if (t.field == "method") {
      v1::PaymentMethod method;
      if (t.quoted || !v1::PaymentMethod_Parse(absl::StrCat("PAYMENT_METHOD_", t.value), &method) ||
          method == v1::PAYMENT_METHOD_UNSPECIFIED) {
        return FilterError(t, "unknown method");
      }
      LEDGER_RETURN_IF_ERROR(EqTerm(t, "method", static_cast<int64_t>(method), &where, &params));
    } else if (t.field == "status") {
      if (t.value != "ACTIVE" && t.value != "VOIDED") return FilterError(t, "unknown status");
      LEDGER_RETURN_IF_ERROR(EqTerm(t, "(CASE WHEN voided > 0 THEN 2 ELSE 1 END)",
                                    static_cast<int64_t>(t.value == "ACTIVE" ? 1 : 2), &where,
                                    &params));
    } else if (t.field == "origin") {
      if (t.value != "PAYMENT" && t.value != "SALE") return FilterError(t, "unknown origin");
      LEDGER_RETURN_IF_ERROR(
          EqTerm(t, "origin", static_cast<int64_t>(t.value == "SALE" ? 2 : 1), &where, &params));
    } else if (t.field == "store_id") {
      if (!t.quoted) return FilterError(t, "expects a quoted value");
      LEDGER_RETURN_IF_ERROR(EqTerm(t, "store_id", t.value, &where, &params));
    } else if (t.field == "has_credit") {
      LEDGER_ASSIGN_OR_RETURN(b, BoolValue(t));
      absl::StrAppend(&where, " AND ", kPaymentUnallocated, b ? " > 0" : " = 0");
    } else {
      return FilterError(t, "unknown field");
    }
  }
  bool asc = false;
  if (req.order_by() == "received_time asc") {
    asc = true;
  } else if (!req.order_by().empty() && req.order_by() != "received_time desc") {
    return OrderByError();
  }
  const std::string binding = absl::StrCat(ctx.tenant_id, "|ListPayments|", req.customer_id(), "|",
                                           req.filter(), "|", req.order_by(), StoresBinding(ctx));
  if (!req.page_token().empty()) {
    LEDGER_ASSIGN_OR_RETURN(keys, DecodePageToken(req.page_token(), binding));
    int64_t t = 0, n = 0;
    if (keys.size() != 2 || !absl::SimpleAtoi(keys[0], &t) || !absl::SimpleAtoi(keys[1], &n)) {
      return Err(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID", "bad page_token", {},
                 {{"page_token", "cannot be read"}});
    }
    const char* op = asc ? ">" : "<";
    absl::StrAppend(&where, " AND (received_time_micros ", op,
                    " ? OR (received_time_micros = ? AND number ", op, " ?))");
    params.insert(params.end(), {t, t, n});
  }
  const char* dir = asc ? "ASC" : "DESC";
  params.push_back(static_cast<int64_t>(page_size + 1));
  const std::string sql =
      absl::StrCat("SELECT * FROM (", kPaymentSelect, inner, ") d", where,
                   " ORDER BY received_time_micros ", dir, ", number ", dir, " LIMIT ?");
  v1::ListPaymentsResponse out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.Clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        PageBudget budget(max_page_bytes_);
        size_t taken = 0;
        for (; taken < rows.size() && static_cast<int>(taken) < page_size; ++taken) {
          LEDGER_ASSIGN_OR_RETURN(p, BuildPayment(tx, ctx, PaymentFactsFromRow(rows[taken])));
          if (!budget.Take(p)) break;
          *out.add_payments() = std::move(p);
        }
        if (rows.size() > taken) {
          const Row& last = rows[taken - 1];
          out.set_next_page_token(EncodePageToken(
              binding, {absl::StrCat(last.GetInt(4)), absl::StrCat(last.GetInt(5))}));
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::vector<v1::CustomerBalance>> LedgerStore::GetBalances(
    const LedgerContext& ctx, const std::vector<std::string>& customer_ids) {
  std::vector<v1::CustomerBalance> out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.clear();
        std::map<std::string, v1::CustomerBalance> done;
        for (const std::string& id : customer_ids) {
          auto it = done.find(id);
          if (it == done.end()) {
            LEDGER_ASSIGN_OR_RETURN(row, entries::ReadCustomerRow(tx, ctx, id));
            const int64_t version = row.version;
            LEDGER_ASSIGN_OR_RETURN(st, ComputeStats(tx, ctx, id, version, today));
            v1::CustomerBalance b;
            b.set_customer_id(id);
            *b.mutable_balance() = st.balance();
            *b.mutable_credit() = st.credit();
            *b.mutable_overdue_amount() = st.overdue_amount();
            b.set_days_overdue(st.days_overdue());
            b.set_open_sale_count(st.open_sale_count());
            b.set_ledger_version(version);
            *b.mutable_as_of_date() = ToDate(today);
            b.set_merged_into_customer_id(row.merged_into);
            b.set_sealed(!row.seal_id.empty());
            it = done.emplace(id, std::move(b)).first;
          }
          out.push_back(it->second);
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::CustomerLedgerStats> LedgerStore::GetStats(const LedgerContext& ctx,
                                                              const std::string& customer_id) {
  v1::CustomerLedgerStats out;
  const absl::CivilDay today = Today(ctx);
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(row, entries::ReadCustomerRow(tx, ctx, customer_id));
        LEDGER_ASSIGN_OR_RETURN(st, ComputeStats(tx, ctx, customer_id, row.version, today));
        st.set_merged_into_customer_id(row.merged_into);
        st.set_sealed(!row.seal_id.empty());
        out = std::move(st);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<std::optional<StoredTenantSettings>> LedgerStore::FindTenantSettings(
    const std::string& tenant_id) {
  std::optional<StoredTenantSettings> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.reset();
        LEDGER_ASSIGN_OR_RETURN(rows,
                                tx.Query("SELECT currency_code, time_zone, ledger_currency FROM "
                                         "tenant_settings WHERE tenant_id = ?",
                                         {tenant_id}));
        if (!rows.empty()) {
          out = StoredTenantSettings{rows[0].GetText(0), rows[0].GetText(1),
                                     rows[0].IsNull(2) ? "" : rows[0].GetText(2)};
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::Status LedgerStore::SaveTenantSettings(const std::string& tenant_id,
                                             const StoredTenantSettings& settings) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return db_.InTransaction([&](Transaction& tx) -> absl::Status {
    return tx
        .Execute(
            "INSERT INTO tenant_settings (tenant_id, currency_code, time_zone, "
            "update_time_micros) VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET "
            "currency_code = excluded.currency_code, time_zone = excluded.time_zone, "
            "update_time_micros = excluded.update_time_micros",
            {tenant_id, settings.currency_code, settings.time_zone, now})
        .status();
  });
}

absl::StatusOr<std::string> LedgerStore::PinLedgerCurrency(const std::string& tenant_id,
                                                           const StoredTenantSettings& settings,
                                                           bool replace) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  std::string pinned;
  absl::Status status = db_.InTransaction([&](Transaction& tx) -> absl::Status {
    LEDGER_RETURN_IF_ERROR(
        tx.Execute(
              absl::StrCat("INSERT INTO tenant_settings (tenant_id, currency_code, "
                           "time_zone, update_time_micros, ledger_currency) VALUES (?, ?, "
                           "?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET ledger_currency = ",
                           replace ? "excluded.ledger_currency"
                                   : "COALESCE(tenant_settings.ledger_currency, "
                                     "excluded.ledger_currency)"),
              {tenant_id, settings.currency_code, settings.time_zone, now, settings.currency_code})
            .status());
    LEDGER_ASSIGN_OR_RETURN(
        rows,
        tx.Query("SELECT ledger_currency FROM tenant_settings WHERE tenant_id = ?", {tenant_id}));
    if (rows.empty() || rows[0].IsNull(0)) return absl::InternalError("currency not pinned");
    pinned = rows[0].GetText(0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return pinned;
}

absl::StatusOr<std::map<std::string, std::string>> LedgerStore::EntryStores(
    const LedgerContext& ctx, absl::string_view entity, const std::vector<std::string>& ids) {
  std::map<std::string, std::string> out;
  if (ids.empty()) return out;
  const bool sales = entity == "sale";
  std::string sql = absl::StrCat("SELECT ", sales ? "sale_id" : "payment_id", ", store_id FROM ",
                                 sales ? "sales" : "payments", " WHERE tenant_id = ? AND ",
                                 sales ? "sale_id" : "payment_id", " IN (");
  std::vector<Value> params = {ctx.tenant_id};
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? "?" : ", ?");
    params.push_back(ids[i]);
  }
  sql += ")";
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        for (const Row& row : rows) out[row.GetText(0)] = row.GetText(1);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<bool> LedgerStore::HasLedgerHistory(const std::string& tenant_id) {
  bool found = false;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(rows,
                                tx.Query("SELECT 1 FROM sales WHERE tenant_id = ? UNION ALL "
                                         "SELECT 1 FROM payments WHERE tenant_id = ? UNION ALL "
                                         "SELECT 1 FROM credit_limits WHERE tenant_id = ? LIMIT 1",
                                         {tenant_id, tenant_id, tenant_id}));
        found = !rows.empty();
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<v1::ListReceivablesResponse> LedgerStore::ListReceivables(
    const LedgerContext& ctx, const v1::ListReceivablesRequest& req) {
  LEDGER_ASSIGN_OR_RETURN(page_size, PageSize(req.page_size()));
  LEDGER_ASSIGN_OR_RETURN(terms, ParseFilter(req.filter()));
  LEDGER_RETURN_IF_ERROR(CheckTermsOnce(terms, {"balance", "days_overdue"}));
  const absl::CivilDay today = Today(ctx);
  std::string store_filter;
  std::optional<std::string> category_filter;
  std::optional<bool> overdue_filter;
  std::vector<std::pair<std::string, int64_t>> min_balance, min_days;  // op, value
  for (const FilterTerm& t : terms) {
    if (t.field == "store_id" && t.op == "=" && t.quoted) {
      store_filter = t.value;
    } else if (t.field == "category_id" && t.op == "=" && t.quoted) {
      category_filter = t.value;
    } else if (t.field == "overdue") {
      LEDGER_ASSIGN_OR_RETURN(b, BoolValue(t));
      overdue_filter = b;
    } else if ((t.field == "balance" || t.field == "days_overdue") &&
               (t.op == ">" || t.op == ">=") && !t.quoted) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(t.value, &v)) return FilterError(t, "expects an integer");
      (t.field == "balance" ? min_balance : min_days).emplace_back(t.op, v);
    } else {
      return FilterError(t, "unsupported term");
    }
  }
  enum class Order { kBalance, kOldest, kDays, kOverdue } order = Order::kBalance;
  if (req.order_by() == "oldest_open_sale_time asc") {
    order = Order::kOldest;
  } else if (req.order_by() == "days_overdue desc") {
    order = Order::kDays;
  } else if (req.order_by() == "overdue_amount desc") {
    order = Order::kOverdue;
  } else if (!req.order_by().empty() && req.order_by() != "balance desc") {
    return OrderByError();
  }
  std::string sql = absl::StrCat("SELECT * FROM (", kSaleSelect,
                                 " WHERE s.tenant_id = ? AND s.customer_id <> '') d WHERE ",
                                 kSaleOutstanding, " > 0");
  std::vector<Value> params = {ctx.tenant_id};
  if (!store_filter.empty()) {
    sql += " AND store_id = ?";
    params.push_back(store_filter);
  }
  RestrictToStores(ctx, "store_id", &sql, &params);
  struct Agg {
    v1::Receivable r;
    int64_t balance = 0, overdue = 0, oldest = INT64_MAX;
    int32_t days = 0;
    std::string category_id;
  };
  std::map<std::string, Agg> by_customer;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        by_customer.clear();
        LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(sql, params));
        for (const Row& row : rows) {
          SaleFacts f = SaleFactsFromRow(row);
          Agg& a = by_customer[row.GetText(8)];
          const int64_t out = f.amounts.outstanding();
          LEDGER_ASSIGN_OR_RETURN(sum, AddToTotal(a.balance, out, "balance"));
          a.balance = sum;
          a.r.set_open_sale_count(a.r.open_sale_count() + 1);
          a.oldest = std::min(a.oldest, f.sale_time_micros);
          const int32_t d = DaysOverdue(f.due, out, today);
          if (d > 0) {
            LEDGER_ASSIGN_OR_RETURN(overdue, AddToTotal(a.overdue, out, "overdue_amount"));
            a.overdue = overdue;
            a.days = std::max(a.days, d);
          }
        }
        // Two bulk reads instead of two queries per customer.
        LEDGER_ASSIGN_OR_RETURN(
            ledgers, tx.Query("SELECT customer_id, ledger_version, credit, category_id FROM "
                              "customer_ledgers WHERE tenant_id = ?",
                              {ctx.tenant_id}));
        for (const Row& row : ledgers) {
          auto it = by_customer.find(row.GetText(0));
          if (it == by_customer.end()) continue;
          it->second.r.set_ledger_version(row.GetInt(1));
          *it->second.r.mutable_credit() = M(row.GetInt(2), ctx.currency);
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
          auto it = by_customer.find(row.GetText(0));
          if (it == by_customer.end()) continue;
          SetTime(it->second.r.mutable_last_payment_time(), row.GetInt(1));
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  auto passes = [](int64_t v, const std::vector<std::pair<std::string, int64_t>>& conds) {
    for (const auto& [op, x] : conds) {
      if (op == ">" ? !(v > x) : !(v >= x)) return false;
    }
    return true;
  };
  struct Item {
    int64_t key;
    std::string customer;
    Agg* agg;
  };
  std::vector<Item> items;
  v1::ListReceivablesResponse out;
  int64_t total = 0, total_overdue = 0;
  for (auto& [customer, a] : by_customer) {
    if (overdue_filter.has_value() && (*overdue_filter != (a.overdue > 0))) continue;
    if (category_filter.has_value() && *category_filter != a.category_id) continue;
    if (!passes(a.balance, min_balance) || !passes(a.days, min_days)) continue;
    LEDGER_ASSIGN_OR_RETURN(sum, AddToTotal(total, a.balance, "total_balance"));
    total = sum;
    LEDGER_ASSIGN_OR_RETURN(overdue, AddToTotal(total_overdue, a.overdue, "total_overdue_amount"));
    total_overdue = overdue;
    // Keys sort ascending: descending orders negate.
    int64_t key = 0;
    switch (order) {
      case Order::kBalance:
        key = -a.balance;
        break;
      case Order::kOldest:
        key = a.oldest;
        break;
      case Order::kDays:
        key = -static_cast<int64_t>(a.days);
        break;
      case Order::kOverdue:
        key = -a.overdue;
        break;
    }
    items.push_back({key, customer, &a});
  }
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    return x.key != y.key ? x.key < y.key : x.customer < y.customer;
  });
  const std::string binding = absl::StrCat(ctx.tenant_id, "|ListReceivables|", req.filter(), "|",
                                           req.order_by(), StoresBinding(ctx));
  size_t start = 0;
  if (!req.page_token().empty()) {
    LEDGER_ASSIGN_OR_RETURN(keys, DecodePageToken(req.page_token(), binding));
    int64_t key = 0;
    if (keys.size() != 2 || !absl::SimpleAtoi(keys[0], &key)) {
      return Err(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID", "bad page_token", {},
                 {{"page_token", "cannot be read"}});
    }
    while (start < items.size() && (items[start].key < key || (items[start].key == key &&
                                                               items[start].customer <= keys[1]))) {
      ++start;
    }
  }
  for (size_t i = start; i < items.size() && static_cast<int>(i - start) < page_size; ++i) {
    Agg& a = *items[i].agg;
    v1::Receivable r = a.r;
    r.set_customer_id(items[i].customer);
    *r.mutable_balance() = M(a.balance, ctx.currency);
    *r.mutable_overdue_amount() = M(a.overdue, ctx.currency);
    r.set_days_overdue(a.days);
    SetTime(r.mutable_oldest_open_sale_time(), a.oldest);
    *out.add_receivables() = std::move(r);
    if (static_cast<int>(i - start) == page_size - 1 && i + 1 < items.size()) {
      out.set_next_page_token(
          EncodePageToken(binding, {absl::StrCat(items[i].key), items[i].customer}));
    }
  }
  *out.mutable_total_balance() = M(total, ctx.currency);
  *out.mutable_total_overdue_amount() = M(total_overdue, ctx.currency);
  out.set_customer_count(static_cast<int64_t>(items.size()));
  *out.mutable_as_of_date() = ToDate(today);
  return out;
}

}  // namespace kelola::ledger
