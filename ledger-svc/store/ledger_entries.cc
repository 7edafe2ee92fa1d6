#include "ledger-svc/store/ledger_entries.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/time/time.h"

namespace kelola::ledger::entries {

absl::Status Err(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                 const errors::Metadata& metadata,
                 const std::vector<errors::FieldViolation>& fields) {
  return errors::Error(code, reason, message, metadata, fields);
}

type::v1::Money M(int64_t amount, const std::string& currency) {
  type::v1::Money m;
  m.set_amount_minor(amount);
  m.set_currency_code(currency);
  return m;
}

void SetTime(google::protobuf::Timestamp* ts, int64_t micros) {
  *ts = time::TimestampFromUnixMicros(micros);
}

int64_t Micros(const google::protobuf::Timestamp& ts) { return time::ToUnixMicros(ts); }

std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

std::optional<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  if (text.empty() || !absl::ParseCivilTime(text, &day)) return std::nullopt;
  if (day.year() < 1 || day.year() > 9999) return std::nullopt;  // protobuf's Date range
  return day;
}

type::v1::Date ToDate(absl::CivilDay day) { return time::ToDate(day); }

int64_t DayStartMicros(absl::CivilDay day, absl::TimeZone tz) {
  return absl::ToUnixMicros(absl::FromCivil(day, tz));
}

SaleFacts SaleFactsFromRow(const Row& row) {
  SaleFacts f;
  f.record.ParseFromString(row.GetBytes(0));
  f.amounts.paid = row.GetInt(1);
  f.amounts.refunded = row.GetInt(2);
  f.amounts.voided = row.GetInt(3) > 0;
  f.sale_time_micros = row.GetInt(4);
  f.due = ParseDay(row.GetText(6));
  f.amounts.total = row.GetInt(7);
  return f;
}

PaymentFacts PaymentFactsFromRow(const Row& row) {
  PaymentFacts f;
  f.record.ParseFromString(row.GetBytes(0));
  f.allocated = row.GetInt(1);
  f.returned = row.GetInt(2);
  f.voided = row.GetInt(3) > 0;
  f.amount = row.GetInt(6);
  return f;
}

absl::StatusOr<v1::VoidInfo> LoadVoidInfo(Transaction& tx, const std::string& tenant,
                                          absl::string_view entity, const std::string& id) {
  LEDGER_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT record FROM voids WHERE tenant_id = ? AND "
                                           "entity = ? AND entity_id = ?",
                                           {tenant, std::string(entity), id}));
  v1::VoidInfo info;
  info.ParseFromString(row.GetBytes(0));
  return info;
}

absl::StatusOr<std::vector<v1::Allocation>> LoadAllocations(Transaction& tx,
                                                            const LedgerContext& ctx,
                                                            absl::string_view column,
                                                            const std::string& id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query(absl::StrCat("SELECT a.allocation_id, a.sale_id, s.number, a.payment_id, "
                                  "p.number, p.method, a.amount, a.kind, a.refund_id, "
                                  "a.create_time_micros, a.created_by, a.request_id "
                                  "FROM allocations a JOIN sales s ON s.tenant_id = a.tenant_id "
                                  "AND s.sale_id = a.sale_id JOIN payments p ON p.tenant_id = "
                                  "a.tenant_id AND p.payment_id = a.payment_id "
                                  "WHERE a.tenant_id = ? AND a.",
                                  column, " = ? ORDER BY a.entry_seq"),
                     {ctx.tenant_id, id}));
  std::vector<v1::Allocation> out;
  for (const Row& row : rows) {
    v1::Allocation a;
    a.set_allocation_id(row.GetText(0));
    a.set_sale_id(row.GetText(1));
    a.set_sale_number(row.GetInt(2));
    a.set_payment_id(row.GetText(3));
    a.set_payment_number(row.GetInt(4));
    a.set_payment_method(static_cast<v1::PaymentMethod>(row.GetInt(5)));
    *a.mutable_amount() = M(row.GetInt(6), ctx.currency);
    a.set_kind(static_cast<v1::AllocationKind>(row.GetInt(7)));
    a.set_refund_id(row.GetText(8));
    SetTime(a.mutable_create_time(), row.GetInt(9));
    a.set_created_by(row.GetText(10));
    a.set_request_id(row.GetText(11));
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<v1::Refund>> LoadRefunds(Transaction& tx, const LedgerContext& ctx,
                                                    const std::string& sale_id) {
  LEDGER_ASSIGN_OR_RETURN(rows, tx.Query("SELECT record FROM refunds WHERE tenant_id = ? AND "
                                         "sale_id = ? ORDER BY entry_seq",
                                         {ctx.tenant_id, sale_id}));
  std::vector<v1::Refund> out;
  for (const Row& row : rows) {
    v1::Refund r;
    r.ParseFromString(row.GetBytes(0));
    out.push_back(std::move(r));
  }
  return out;
}

// A full Sale message from its facts.
absl::StatusOr<v1::Sale> BuildSale(Transaction& tx, const LedgerContext& ctx, const SaleFacts& f,
                                   v1::SaleView view, absl::CivilDay today) {
  v1::Sale sale = f.record;
  const std::string& cur = ctx.currency;
  *sale.mutable_paid_amount() = M(f.amounts.paid, cur);
  *sale.mutable_refunded_amount() = M(f.amounts.refunded, cur);
  *sale.mutable_net_total() = M(f.amounts.net_total(), cur);
  *sale.mutable_outstanding() = M(f.amounts.outstanding(), cur);
  sale.set_status(static_cast<v1::SaleStatus>(f.amounts.status()));
  sale.set_days_overdue(DaysOverdue(f.due, f.amounts.outstanding(), today));
  if (f.amounts.refunded != 0 || view == v1::SALE_VIEW_FULL) {
    LEDGER_ASSIGN_OR_RETURN(refunds, LoadRefunds(tx, ctx, sale.sale_id()));
    for (const v1::Refund& r : refunds) {
      for (const v1::RefundItem& item : r.items()) {
        if (item.item_index() >= 0 && item.item_index() < sale.items_size()) {
          auto* line = sale.mutable_items(item.item_index());
          line->set_refunded_quantity_milli(line->refunded_quantity_milli() +
                                            item.quantity_milli());
        }
      }
      if (view == v1::SALE_VIEW_FULL) *sale.add_refunds() = r;
    }
  }
  if (view == v1::SALE_VIEW_FULL) {
    LEDGER_ASSIGN_OR_RETURN(allocations, LoadAllocations(tx, ctx, "sale_id", sale.sale_id()));
    for (auto& a : allocations) *sale.add_allocations() = std::move(a);
  }
  if (f.amounts.voided) {
    LEDGER_ASSIGN_OR_RETURN(info, LoadVoidInfo(tx, ctx.tenant_id, "sale", sale.sale_id()));
    *sale.mutable_void_info() = std::move(info);
  }
  return sale;
}

absl::StatusOr<v1::Payment> BuildPayment(Transaction& tx, const LedgerContext& ctx,
                                         const PaymentFacts& f,
                                         const std::vector<v1::Allocation>* allocations) {
  v1::Payment p = f.record;
  const std::string& cur = ctx.currency;
  if (allocations != nullptr) {
    for (const v1::Allocation& a : *allocations) *p.add_allocations() = a;
  } else {
    LEDGER_ASSIGN_OR_RETURN(loaded, LoadAllocations(tx, ctx, "payment_id", p.payment_id()));
    for (auto& a : loaded) *p.add_allocations() = std::move(a);
  }
  *p.mutable_allocated_amount() = M(f.allocated, cur);
  *p.mutable_returned_amount() = M(f.returned, cur);
  *p.mutable_unallocated_amount() = M(f.unallocated(), cur);
  p.set_status(f.voided ? v1::PAYMENT_STATUS_VOIDED : v1::PAYMENT_STATUS_ACTIVE);
  if (f.voided) {
    LEDGER_ASSIGN_OR_RETURN(info, LoadVoidInfo(tx, ctx.tenant_id, "payment", p.payment_id()));
    *p.mutable_void_info() = std::move(info);
  }
  return p;
}

absl::StatusOr<std::optional<SaleFacts>> FindSale(Transaction& tx, const LedgerContext& ctx,
                                                  const std::string& sale_id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query(absl::StrCat(kSaleSelect, " WHERE s.tenant_id = ? AND s.sale_id = ?"),
                     {ctx.tenant_id, sale_id}));
  if (rows.empty()) return std::optional<SaleFacts>();
  return std::optional<SaleFacts>(SaleFactsFromRow(rows[0]));
}

absl::StatusOr<SaleFacts> GetSaleFacts(Transaction& tx, const LedgerContext& ctx,
                                       const std::string& sale_id) {
  LEDGER_ASSIGN_OR_RETURN(found, FindSale(tx, ctx, sale_id));
  if (!found.has_value()) {
    return Err(absl::StatusCode::kNotFound, "SALE_NOT_FOUND", "sale not found",
               {{"sale_id", sale_id}});
  }
  return *std::move(found);
}

absl::StatusOr<std::optional<PaymentFacts>> FindPayment(Transaction& tx, const LedgerContext& ctx,
                                                        const std::string& payment_id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query(absl::StrCat(kPaymentSelect, " WHERE p.tenant_id = ? AND p.payment_id = ?"),
                     {ctx.tenant_id, payment_id}));
  if (rows.empty()) return std::optional<PaymentFacts>();
  return std::optional<PaymentFacts>(PaymentFactsFromRow(rows[0]));
}

absl::StatusOr<PaymentFacts> GetPaymentFacts(Transaction& tx, const LedgerContext& ctx,
                                             const std::string& payment_id) {
  LEDGER_ASSIGN_OR_RETURN(found, FindPayment(tx, ctx, payment_id));
  if (!found.has_value()) {
    return Err(absl::StatusCode::kNotFound, "PAYMENT_NOT_FOUND", "payment not found",
               {{"payment_id", payment_id}});
  }
  return *std::move(found);
}

namespace {

// ComputeStats' view of a customer's sales and payments: the derived amounts of
// kSaleSelect / kPaymentSelect without the record blobs.
constexpr char kStatsSalesSql[] =
    "SELECT "
    "COALESCE((SELECT SUM(a.amount) FROM allocations a WHERE a.tenant_id = s.tenant_id "
    "AND a.sale_id = s.sale_id), 0), "
    "COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.tenant_id = s.tenant_id "
    "AND r.sale_id = s.sale_id), 0), "
    "(SELECT COUNT(*) FROM voids v WHERE v.tenant_id = s.tenant_id AND v.entity = 'sale' "
    "AND v.entity_id = s.sale_id), "
    "s.sale_time_micros, s.due_date, s.total FROM sales s "
    "WHERE s.tenant_id = ? AND s.customer_id = ?";

constexpr char kStatsPaymentsSql[] =
    "SELECT "
    "COALESCE((SELECT SUM(a.amount) FROM allocations a WHERE a.tenant_id = p.tenant_id "
    "AND a.payment_id = p.payment_id), 0), "
    "COALESCE((SELECT SUM(0 - a.amount) FROM allocations a WHERE a.tenant_id = p.tenant_id "
    "AND a.payment_id = p.payment_id AND a.payout = 1), 0), "
    "(SELECT COUNT(*) FROM voids v WHERE v.tenant_id = p.tenant_id AND v.entity = 'payment' "
    "AND v.entity_id = p.payment_id), "
    "p.received_time_micros, p.amount, p.origin FROM payments p "
    "WHERE p.tenant_id = ? AND p.customer_id = ?";

}  // namespace

absl::StatusOr<v1::CustomerLedgerStats> ComputeStats(Transaction& tx, const LedgerContext& ctx,
                                                     const std::string& customer_id,
                                                     int64_t version, absl::CivilDay today) {
  const std::string& cur = ctx.currency;
  v1::CustomerLedgerStats st;
  st.set_customer_id(customer_id);
  st.set_ledger_version(version);
  *st.mutable_as_of_date() = ToDate(today);
  // Only the amounts and times: no record blobs are read or parsed (this runs in every
  // write of the customer).
  LEDGER_ASSIGN_OR_RETURN(sales, tx.Query(kStatsSalesSql, {ctx.tenant_id, customer_id}));
  int64_t total_spent = 0, count = 0, balance = 0, overdue = 0, open = 0;
  int32_t days_overdue = 0;
  std::optional<absl::CivilDay> earliest_due;
  std::optional<int64_t> oldest_open, first, last, last_activity;
  auto touch = [&](int64_t micros) {
    if (!last_activity || micros > *last_activity) last_activity = micros;
  };
  for (const Row& row : sales) {
    SaleFacts f;
    f.amounts.paid = row.GetInt(0);
    f.amounts.refunded = row.GetInt(1);
    f.amounts.voided = row.GetInt(2) > 0;
    f.sale_time_micros = row.GetInt(3);
    if (!row.IsNull(4)) f.due = ParseDay(row.GetText(4));
    f.amounts.total = row.GetInt(5);
    touch(f.sale_time_micros);
    if (f.amounts.voided) continue;
    LEDGER_ASSIGN_OR_RETURN(spent, AddToTotal(total_spent, f.amounts.net_total(), "total_spent"));
    total_spent = spent;
    ++count;
    if (!first || f.sale_time_micros < *first) first = f.sale_time_micros;
    if (!last || f.sale_time_micros > *last) last = f.sale_time_micros;
    const int64_t out = f.amounts.outstanding();
    if (out <= 0) continue;
    LEDGER_ASSIGN_OR_RETURN(b, AddToTotal(balance, out, "balance"));
    balance = b;
    ++open;
    if (!oldest_open || f.sale_time_micros < *oldest_open) oldest_open = f.sale_time_micros;
    if (f.due && (!earliest_due || *f.due < *earliest_due)) earliest_due = f.due;
    const int32_t d = DaysOverdue(f.due, out, today);
    if (d > 0) {
      LEDGER_ASSIGN_OR_RETURN(o, AddToTotal(overdue, out, "overdue_amount"));
      overdue = o;
      days_overdue = std::max(days_overdue, d);
    }
  }
  LEDGER_ASSIGN_OR_RETURN(payments, tx.Query(kStatsPaymentsSql, {ctx.tenant_id, customer_id}));
  int64_t credit = 0, total_paid = 0, payment_count = 0;
  std::optional<int64_t> last_payment;
  for (const Row& row : payments) {
    PaymentFacts f;
    f.allocated = row.GetInt(0);
    f.returned = row.GetInt(1);
    f.voided = row.GetInt(2) > 0;
    const int64_t received = row.GetInt(3);
    f.amount = row.GetInt(4);
    touch(received);
    if (f.voided) continue;
    LEDGER_ASSIGN_OR_RETURN(c, AddToTotal(credit, f.unallocated(), "credit"));
    credit = c;
    LEDGER_ASSIGN_OR_RETURN(paid, AddToTotal(total_paid, f.amount - f.returned, "total_paid"));
    total_paid = paid;
    ++payment_count;
    if (row.GetInt(5) == v1::PAYMENT_ORIGIN_PAYMENT &&
        (!last_payment || received > *last_payment)) {
      last_payment = received;
    }
  }
  LEDGER_ASSIGN_OR_RETURN(
      times, tx.QueryOne("SELECT (SELECT MAX(refund_time_micros) FROM refunds WHERE tenant_id = "
                         "? AND customer_id = ?), (SELECT MAX(void_time_micros) FROM voids "
                         "WHERE tenant_id = ? AND customer_id = ?)",
                         {ctx.tenant_id, customer_id, ctx.tenant_id, customer_id}));
  if (auto t = times.GetOptionalInt(0)) touch(*t);
  if (auto t = times.GetOptionalInt(1)) touch(*t);

  *st.mutable_total_spent() = M(total_spent, cur);
  st.set_transaction_count(count);
  *st.mutable_average_order() = M(AverageOrder(total_spent, count), cur);
  *st.mutable_balance() = M(balance, cur);
  *st.mutable_credit() = M(credit, cur);
  *st.mutable_overdue_amount() = M(overdue, cur);
  st.set_days_overdue(days_overdue);
  if (earliest_due) *st.mutable_earliest_open_due_date() = ToDate(*earliest_due);
  if (oldest_open) SetTime(st.mutable_oldest_open_sale_time(), *oldest_open);
  st.set_open_sale_count(open);
  if (first) SetTime(st.mutable_first_purchase_time(), *first);
  if (last) SetTime(st.mutable_last_purchase_time(), *last);
  if (last_payment) SetTime(st.mutable_last_payment_time(), *last_payment);
  if (last_activity) SetTime(st.mutable_last_activity_time(), *last_activity);
  *st.mutable_total_paid() = M(total_paid, cur);
  st.set_payment_count(payment_count);
  st.set_has_history(!sales.empty() || !payments.empty());
  return st;
}

namespace {

CustomerRow CustomerRowOf(const Row& row) {
  CustomerRow out;
  out.version = row.GetInt(0);
  out.balance = row.GetInt(1);
  out.credit = row.GetInt(2);
  if (!row.IsNull(3)) out.stats = row.GetBytes(3);
  if (!row.IsNull(4)) out.seal_id = row.GetText(4);
  if (!row.IsNull(5)) out.merged_into = row.GetText(5);
  // Trusted only when written by the write that made the row's version: a write that does
  // not keep it (a ledger-svc from before it, during a rolling upgrade) bumps the version
  // and leaves it behind.
  if (!row.IsNull(6) && !row.IsNull(7) && !row.IsNull(8) && row.GetInt(8) == out.version) {
    out.settled_before = SalePlace{row.GetInt(6), row.GetInt(7)};
  }
  return out;
}

// The columns CustomerRowOf reads; a lock's further columns follow them.
constexpr size_t kLedgerRowColumns = 9;

// The statement that locks and reads a customer's ledger row `l`: its kLedgerRowColumns
// columns, which CustomerRowOf reads, then `columns`, which take no parameters, from the tables in
// `tables` (joined before the row; their parameters come first) and the row. On
// PostgreSQL it takes the row lock (FOR NO KEY UPDATE, the lock an UPDATE of the row
// takes: it waits for a writer of the same customer, then reads the row that writer left)
// without writing a new version of the row; its other columns read as of the SELECT's
// start. SQLite's single writer serializes the writes by itself.
struct LockSql {
  explicit LockSql(absl::string_view columns, absl::string_view tables = "") {
    const std::string select = absl::StrCat(
        "SELECT l.ledger_version, l.balance, l.credit, l.stats, l.seal_id, l.merged_into, "
        "l.settled_before_time, l.settled_before_number, l.settled_before_version",
        columns.empty() ? "" : ", ", columns, " FROM ", tables, tables.empty() ? "" : ", ",
        "customer_ledgers l WHERE l.tenant_id = ? AND l.customer_id = ?");
    sqlite = select;
    postgres = absl::StrCat(select, " FOR NO KEY UPDATE OF l");
  }
  std::string sqlite, postgres;
};

// Locks the customer's ledger row (creating it), so that writes of one customer
// serialize on both drivers, and reads it with `sql`; `params` are those of its tables.
// One round trip: the insert of a missing row goes out with the SELECT
// (decisions/ledger-write-path.md).
absl::StatusOr<Row> LockAndRead(Transaction& tx, const LedgerContext& ctx,
                                const std::string& customer_id, const LockSql& sql,
                                std::vector<Value> params) {
  LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred(
      "INSERT INTO customer_ledgers (tenant_id, customer_id, ledger_version, balance, credit, "
      "stats) VALUES (?, ?, 0, 0, 0, NULL) ON CONFLICT (tenant_id, customer_id) DO NOTHING",
      {ctx.tenant_id, customer_id}));
  params.insert(params.end(), {ctx.tenant_id, customer_id});
  return tx.QueryOne(tx.dialect() == db::Dialect::kPostgres ? sql.postgres : sql.sqlite, params);
}

}  // namespace

absl::StatusOr<CustomerRow> LockCustomerRow(Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id) {
  static const LockSql kSql("");
  LEDGER_ASSIGN_OR_RETURN(row, LockAndRead(tx, ctx, customer_id, kSql, {}));
  return CustomerRowOf(row);
}

absl::StatusOr<LockedCustomer> LockCustomerWithDirectory(Transaction& tx, const LedgerContext& ctx,
                                                         const std::string& customer_id) {
  // Built once per process; the projection's columns follow the row's.
  static const LockSql kSql(DirectoryColumnsSql("l.tenant_id", "l.customer_id"));
  LEDGER_ASSIGN_OR_RETURN(row, LockAndRead(tx, ctx, customer_id, kSql, {}));
  LockedCustomer out;
  out.row = CustomerRowOf(row);
  out.directory = DirectoryRowOf(row, kLedgerRowColumns, customer_id);
  return out;
}

namespace {

// LockCustomerForSale's statement. After the row's columns: the credit limits that may
// apply, the projection's row, the category stored with the ledger row and the one it
// should hold, `k`: a parameter when customer-svc was asked (`checked`), else the
// projection's. The category limit is the one of the category the row should hold.
LockSql SaleLockSql(bool checked) {
  return LockSql(
      absl::StrCat("(SELECT c.limit_minor FROM credit_limits c WHERE c.tenant_id = l.tenant_id "
                   "AND c.deleted = 0 AND c.subject = 'customer' AND c.subject_id = "
                   "l.customer_id), "
                   "(SELECT c.limit_minor FROM credit_limits c WHERE c.tenant_id = l.tenant_id "
                   "AND c.deleted = 0 AND c.subject = 'category' AND c.subject_id = "
                   "k.category_id AND k.category_id <> ''), ",
                   DirectoryColumnsSql("l.tenant_id", "l.customer_id"),
                   ", l.category_id, k.category_id"),
      checked ? "(SELECT CAST(? AS TEXT) AS category_id) k"
              : "(SELECT COALESCE((SELECT d.category_id FROM directory_customers d WHERE "
                "d.tenant_id = ? AND d.customer_id = ?), '') AS category_id) k");
}

}  // namespace

absl::StatusOr<SaleCustomer> LockCustomerForSale(Transaction& tx, const LedgerContext& ctx,
                                                 const std::string& customer_id,
                                                 const std::string* checked_category) {
  // Built once per process, not per sale. On PostgreSQL the limits read as of the SELECT's
  // start, before any wait for the row lock: a sale that waited behind a SetCreditLimit of
  // the same customer (which locks the row without changing it) is checked against the
  // limit it started under, as if it had come first (decisions/ledger-write-path.md).
  static const LockSql kFromProjection = SaleLockSql(false);
  static const LockSql kChecked = SaleLockSql(true);
  std::vector<Value> params;
  if (checked_category != nullptr) {
    params.push_back(*checked_category);
  } else {
    params = {ctx.tenant_id, customer_id};
  }
  LEDGER_ASSIGN_OR_RETURN(row, LockAndRead(tx, ctx, customer_id,
                                           checked_category != nullptr ? kChecked : kFromProjection,
                                           std::move(params)));
  SaleCustomer out;
  out.row = CustomerRowOf(row);
  out.own_limit = row.GetOptionalInt(kLedgerRowColumns);
  out.category_limit = row.GetOptionalInt(kLedgerRowColumns + 1);
  out.directory = DirectoryRowOf(row, kLedgerRowColumns + 2, customer_id);
  // The category is stored with the row for receivables by category; written only when it
  // changed, with the rest of the write.
  const size_t stored = kLedgerRowColumns + 2 + kDirectoryColumns;
  if (row.GetText(stored) != row.GetText(stored + 1)) {
    LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred(
        "UPDATE customer_ledgers SET category_id = ? WHERE tenant_id = ? AND customer_id = ?",
        {row.GetText(stored + 1), ctx.tenant_id, customer_id}));
  }
  return out;
}

absl::Status CheckOpen(const CustomerRow& row, const std::string& customer_id) {
  if (!row.merged_into.empty()) {
    return Err(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGED",
               "the customer was merged into another; record this for the survivor",
               {{"customer_id", customer_id}, {"merged_into_customer_id", row.merged_into}});
  }
  if (!row.seal_id.empty()) {
    return Err(absl::StatusCode::kFailedPrecondition, "CUSTOMER_SEALED", "the customer was deleted",
               {{"customer_id", customer_id}, {"seal_id", row.seal_id}});
  }
  return absl::OkStatus();
}

absl::StatusOr<CustomerRow> LockCustomer(Transaction& tx, const LedgerContext& ctx,
                                         const std::string& customer_id) {
  LEDGER_ASSIGN_OR_RETURN(row, LockCustomerRow(tx, ctx, customer_id));
  LEDGER_RETURN_IF_ERROR(CheckOpen(row, customer_id));
  return row;
}

absl::StatusOr<CustomerRow> ReadCustomerRow(Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query("SELECT ledger_version, balance, credit, seal_id, merged_into FROM "
                     "customer_ledgers WHERE tenant_id = ? AND customer_id = ?",
                     {ctx.tenant_id, customer_id}));
  CustomerRow out;
  if (rows.empty()) return out;
  out.version = rows[0].GetInt(0);
  out.balance = rows[0].GetInt(1);
  out.credit = rows[0].GetInt(2);
  if (!rows[0].IsNull(3)) out.seal_id = rows[0].GetText(3);
  if (!rows[0].IsNull(4)) out.merged_into = rows[0].GetText(4);
  return out;
}

OpenSalesNeeded NeededOpenSales(const v1::CustomerLedgerStats& stats, const StatsDelta& delta,
                                absl::CivilDay today) {
  std::optional<int64_t> oldest_open;
  if (stats.has_oldest_open_sale_time()) oldest_open = Micros(stats.oldest_open_sale_time());
  std::optional<absl::CivilDay> earliest_due;
  if (stats.has_earliest_open_due_date()) {
    earliest_due = time::ToCivilDay(stats.earliest_open_due_date());
  }
  OpenSalesNeeded need;
  for (const StatsDelta::PaidSale& p : delta.paid_sales) {
    if (p.after != 0) continue;
    const int32_t d = DaysOverdue(p.due, p.before, today);
    if (!oldest_open || p.time_micros <= *oldest_open) need.oldest = true;
    if ((p.due && (!earliest_due || *p.due <= *earliest_due)) ||
        (d > 0 && d >= stats.days_overdue())) {
      need.due = true;
    }
  }
  return need;
}

std::optional<v1::CustomerLedgerStats> ApplyStatsDelta(const v1::CustomerLedgerStats& stats,
                                                       const StatsDelta& delta, int64_t version,
                                                       absl::CivilDay today,
                                                       const std::string& currency,
                                                       const OpenSalesAfter* open_after) {
  v1::CustomerLedgerStats st = stats;
  auto opt_time = [](bool has, const google::protobuf::Timestamp& ts) {
    return has ? std::optional<int64_t>(Micros(ts)) : std::nullopt;
  };
  std::optional<int64_t> first = opt_time(st.has_first_purchase_time(), st.first_purchase_time());
  std::optional<int64_t> last = opt_time(st.has_last_purchase_time(), st.last_purchase_time());
  std::optional<int64_t> last_payment =
      opt_time(st.has_last_payment_time(), st.last_payment_time());
  std::optional<int64_t> last_activity =
      opt_time(st.has_last_activity_time(), st.last_activity_time());
  std::optional<int64_t> oldest_open =
      opt_time(st.has_oldest_open_sale_time(), st.oldest_open_sale_time());
  std::optional<absl::CivilDay> earliest_due;
  if (st.has_earliest_open_due_date()) {
    earliest_due = time::ToCivilDay(st.earliest_open_due_date());
  }
  int64_t total_spent = st.total_spent().amount_minor();
  int64_t count = st.transaction_count();
  int64_t balance = st.balance().amount_minor();
  int64_t credit = st.credit().amount_minor();
  int64_t overdue = st.overdue_amount().amount_minor();
  int32_t days_overdue = st.days_overdue();
  int64_t open = st.open_sale_count();
  int64_t total_paid = st.total_paid().amount_minor();
  int64_t payment_count = st.payment_count();
  auto touch = [&](int64_t micros) {
    if (!last_activity || micros > *last_activity) last_activity = micros;
  };

  // Existing sales paid by this write: only the running sums change, unless a sale that
  // closes is the one a minimum or maximum came from: then the open sales after the write
  // (`open_after`) decide them.
  for (const StatsDelta::PaidSale& p : delta.paid_sales) {
    if (p.after < 0 || p.before < p.after) return std::nullopt;
    if (p.after == 0) --open;
    balance -= p.before - p.after;
    if (DaysOverdue(p.due, p.before, today) > 0) overdue -= p.before - p.after;
  }
  const OpenSalesNeeded need = NeededOpenSales(stats, delta, today);
  if (need.oldest || need.due) {
    if (open_after == nullptr || (need.due && !open_after->due_read)) return std::nullopt;
    if (need.oldest) oldest_open = open_after->oldest_time_micros;
    if (need.due) {
      earliest_due = open_after->earliest_due;
      // An open sale's days overdue count from its due date: the most from the earliest.
      days_overdue = std::max(0, DaysOverdue(earliest_due, 1, today));
    }
  }
  for (const StatsDelta::NewSale& s : delta.new_sales) {
    touch(s.time_micros);
    if (__builtin_add_overflow(total_spent, s.net_total, &total_spent)) return std::nullopt;
    ++count;
    if (!first || s.time_micros < *first) first = s.time_micros;
    if (!last || s.time_micros > *last) last = s.time_micros;
    if (s.outstanding <= 0) continue;
    if (__builtin_add_overflow(balance, s.outstanding, &balance)) return std::nullopt;
    ++open;
    if (!oldest_open || s.time_micros < *oldest_open) oldest_open = s.time_micros;
    if (s.due && (!earliest_due || *s.due < *earliest_due)) earliest_due = s.due;
    const int32_t d = DaysOverdue(s.due, s.outstanding, today);
    if (d > 0) {
      if (__builtin_add_overflow(overdue, s.outstanding, &overdue)) return std::nullopt;
      days_overdue = std::max(days_overdue, d);
    }
  }
  // A sum that would not fit: the recomputation names it (FAILED_PRECONDITION).
  for (const StatsDelta::NewPayment& p : delta.new_payments) {
    touch(p.received_micros);
    if (__builtin_add_overflow(credit, p.unallocated, &credit) ||
        __builtin_add_overflow(total_paid, p.amount, &total_paid)) {
      return std::nullopt;
    }
    ++payment_count;
    if (p.origin_payment && (!last_payment || p.received_micros > *last_payment)) {
      last_payment = p.received_micros;
    }
  }
  credit -= delta.credit_used;

  st.set_ledger_version(version);
  *st.mutable_as_of_date() = ToDate(today);
  *st.mutable_total_spent() = M(total_spent, currency);
  st.set_transaction_count(count);
  *st.mutable_average_order() = M(AverageOrder(total_spent, count), currency);
  *st.mutable_balance() = M(balance, currency);
  *st.mutable_credit() = M(credit, currency);
  *st.mutable_overdue_amount() = M(overdue, currency);
  st.set_days_overdue(days_overdue);
  st.clear_earliest_open_due_date();
  if (earliest_due) *st.mutable_earliest_open_due_date() = ToDate(*earliest_due);
  st.clear_oldest_open_sale_time();
  if (oldest_open) SetTime(st.mutable_oldest_open_sale_time(), *oldest_open);
  st.set_open_sale_count(open);
  if (first) SetTime(st.mutable_first_purchase_time(), *first);
  if (last) SetTime(st.mutable_last_purchase_time(), *last);
  if (last_payment) SetTime(st.mutable_last_payment_time(), *last_payment);
  if (last_activity) SetTime(st.mutable_last_activity_time(), *last_activity);
  *st.mutable_total_paid() = M(total_paid, currency);
  st.set_payment_count(payment_count);
  st.set_has_history(st.has_history() || !delta.new_sales.empty() || !delta.new_payments.empty());
  return st;
}

absl::StatusOr<v1::CustomerLedgerStats> BumpCustomer(Transaction& tx, const LedgerContext& ctx,
                                                     const std::string& customer_id,
                                                     const CustomerRow& before,
                                                     absl::CivilDay today, const StatsDelta* delta,
                                                     std::optional<SalePlace> settled_before) {
  // The stored statistics, when the delta applies to them: of the version before this write
  // and as of today (overdue amounts move with the calendar).
  std::optional<v1::CustomerLedgerStats> stored;
  if (delta != nullptr && !before.stats.empty()) {
    v1::CustomerLedgerStats parsed;
    const type::v1::Date today_date = ToDate(today);
    if (parsed.ParseFromString(before.stats) && parsed.ledger_version() == before.version &&
        parsed.as_of_date().year() == today_date.year() &&
        parsed.as_of_date().month() == today_date.month() &&
        parsed.as_of_date().day() == today_date.day()) {
      stored = std::move(parsed);
    }
  }
  std::optional<v1::CustomerLedgerStats> applied;
  if (stored.has_value()) {
    // When the write closed the sale a minimum came from (an oldest-first payment closes the
    // oldest open sale), the open sales after it decide, read from where they begin, not the
    // whole history that a recomputation reads: the first of them gives the oldest; all of
    // them only when the due dates are needed too.
    const OpenSalesNeeded need = NeededOpenSales(*stored, *delta, today);
    std::optional<OpenSalesAfter> open_after;
    if (need.oldest || need.due) {
      LEDGER_ASSIGN_OR_RETURN(read,
                              ReadOpenSalesAfter(tx, ctx, customer_id, settled_before, need.due));
      open_after = std::move(read);
    }
    applied = ApplyStatsDelta(*stored, *delta, before.version + 1, today, ctx.currency,
                              open_after.has_value() ? &*open_after : nullptr);
  }
  v1::CustomerLedgerStats st;
  if (applied.has_value()) {
    st = *std::move(applied);
  } else {
    LEDGER_ASSIGN_OR_RETURN(computed,
                            ComputeStats(tx, ctx, customer_id, before.version + 1, today));
    st = std::move(computed);
  }
  LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred(
      "UPDATE customer_ledgers SET ledger_version = ?, balance = ?, credit = ?, "
      "stats = ?, settled_before_time = ?, settled_before_number = ?, settled_before_version = ? "
      "WHERE tenant_id = ? AND customer_id = ?",
      {st.ledger_version(), st.balance().amount_minor(), st.credit().amount_minor(),
       Bytes{st.SerializeAsString()},
       settled_before ? db::Value(settled_before->time_micros) : db::Null(),
       settled_before ? db::Value(settled_before->number) : db::Null(),
       settled_before ? db::Value(st.ledger_version()) : db::Null(), ctx.tenant_id, customer_id}));
  return st;
}

absl::StatusOr<int64_t> NextCounter(Transaction& tx, const std::string& tenant,
                                    absl::string_view name) {
  LEDGER_ASSIGN_OR_RETURN(
      row, tx.QueryOne("INSERT INTO ledger_counters (tenant_id, name, value) VALUES (?, ?, 1) "
                       "ON CONFLICT (tenant_id, name) DO UPDATE SET value = "
                       "ledger_counters.value + 1 RETURNING value",
                       {tenant, std::string(name)}));
  return row.GetInt(0);
}

absl::StatusOr<std::optional<std::string>> FindStoredResponse(Transaction& tx,
                                                              const LedgerContext& ctx,
                                                              absl::string_view rpc,
                                                              const std::string& request_id,
                                                              const idempotency::Print& print) {
  LEDGER_ASSIGN_OR_RETURN(stored,
                          idempotency::Lookup(tx, {ctx.tenant_id, std::string(rpc), request_id}));
  if (!stored.has_value()) return std::nullopt;
  if (!print.Matches(stored->request_hash)) {
    return Err(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
               "request_id was already used for a different request", {{"request_id", request_id}});
  }
  return std::move(stored->response);
}

v1::SalePosition Position(const v1::Sale& sale) {
  v1::SalePosition p;
  p.set_sale_id(sale.sale_id());
  p.set_number(sale.number());
  p.set_customer_id(sale.customer_id());
  p.set_store_id(sale.store_id());
  *p.mutable_sale_time() = sale.sale_time();
  if (sale.has_due_date()) *p.mutable_due_date() = sale.due_date();
  *p.mutable_net_total() = sale.net_total();
  *p.mutable_paid_amount() = sale.paid_amount();
  *p.mutable_outstanding() = sale.outstanding();
  p.set_status(sale.status());
  return p;
}

// Inserts one allocation entry.
absl::Status InsertAllocation(Transaction& tx, const LedgerContext& ctx, ids::IdGenerator& ids,
                              int64_t now_micros, const std::string& request_id,
                              const std::string& sale_id, const std::string& payment_id,
                              int64_t amount, v1::AllocationKind kind, const std::string& refund_id,
                              bool payout, std::string* id_out) {
  const std::string id = ids.NewId();
  if (id_out != nullptr) *id_out = id;
  if (tx.dialect() == db::Dialect::kPostgres) {
    // Entry order from a sequence: no tenant-wide row locked until commit. Writes of one
    // customer (whose entries it orders) already take turns on the customer's row, so the
    // order of nextval calls is their order.
    return tx.ExecuteDeferred(
        "INSERT INTO allocations (tenant_id, allocation_id, entry_seq, sale_id, "
        "payment_id, amount, kind, refund_id, payout, create_time_micros, created_by, "
        "request_id) VALUES (?, ?, nextval('allocation_entry_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {ctx.tenant_id, id, sale_id, payment_id, amount, static_cast<int64_t>(kind), refund_id,
         static_cast<int64_t>(payout ? 1 : 0), now_micros, ctx.principal, request_id});
  }
  LEDGER_ASSIGN_OR_RETURN(seq, NextCounter(tx, ctx.tenant_id, "allocation"));
  return tx.ExecuteDeferred(
      "INSERT INTO allocations (tenant_id, allocation_id, entry_seq, sale_id, "
      "payment_id, amount, kind, refund_id, payout, create_time_micros, created_by, "
      "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {ctx.tenant_id, id, seq, sale_id, payment_id, amount, static_cast<int64_t>(kind), refund_id,
       static_cast<int64_t>(payout ? 1 : 0), now_micros, ctx.principal, request_id});
}

absl::Status InsertPayment(Transaction& tx, const LedgerContext& ctx, const v1::Payment& p,
                           int64_t amount_minor, int64_t received_micros) {
  return tx.ExecuteDeferred(
      "INSERT INTO payments (tenant_id, payment_id, number, customer_id, store_id, amount, "
      "method, origin, sale_id, received_time_micros, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?)",
      {ctx.tenant_id, p.payment_id(), p.number(), p.customer_id(), p.store_id(), amount_minor,
       static_cast<int64_t>(p.method()), static_cast<int64_t>(p.origin()), p.sale_id(),
       received_micros, Bytes{p.SerializeAsString()}});
}

absl::Status InsertVoid(Transaction& tx, const LedgerContext& ctx, absl::string_view entity,
                        const std::string& id, const std::string& customer_id,
                        const v1::VoidInfo& info) {
  return tx.ExecuteDeferred(
      "INSERT INTO voids (tenant_id, entity, entity_id, customer_id, void_time_micros, "
      "record) VALUES (?, ?, ?, ?, ?, ?)",
      {ctx.tenant_id, std::string(entity), id, customer_id, Micros(info.void_time()),
       Bytes{info.SerializeAsString()}});
}

// Net amount each payment has allocated to a sale (positive only), in entry order.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> NetAllocationsBySale(
    Transaction& tx, const LedgerContext& ctx, const std::string& sale_id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query("SELECT payment_id, SUM(amount), MIN(entry_seq) FROM allocations WHERE "
                     "tenant_id = ? AND sale_id = ? GROUP BY payment_id ORDER BY MIN(entry_seq)",
                     {ctx.tenant_id, sale_id}));
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Row& row : rows) {
    if (row.GetInt(1) > 0) out.emplace_back(row.GetText(0), row.GetInt(1));
  }
  return out;
}

// Open sales of a customer, oldest first; with `cover`, only the oldest ones whose
// outstanding amounts reach it (read in pages along sales_by_customer, so a payment does
// not compute the outstanding amount of every sale of the customer).
absl::StatusOr<std::vector<OpenSale>> OpenSales(Transaction& tx, const LedgerContext& ctx,
                                                const std::string& customer_id,
                                                std::optional<int64_t> cover,
                                                std::optional<SalePlace> from) {
  // Pages along sales_by_customer from `from` (inclusive: the keyset below is exclusive, and
  // numbers are whole), each sale's outstanding amount computed as the page reads it; all
  // of them (no `cover`) in one page, one statement.
  const int64_t page = cover.has_value() ? 8 : std::numeric_limits<int64_t>::max();
  static const std::string kPageSql =
      absl::StrCat("SELECT sale_id, ", kSaleOutstanding,
                   ", sale_time_micros, number, due_date FROM (", kSaleSelect,
                   " WHERE s.tenant_id = ? AND s.customer_id = ? AND (s.sale_time_micros > ? OR "
                   "(s.sale_time_micros = ? AND s.number > ?))) d WHERE ",
                   kSaleOutstanding, " > 0 ORDER BY sale_time_micros ASC, number ASC LIMIT ?");
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t after_time = from ? from->time_micros : kMin;
  int64_t after_number = from && from->number > kMin ? from->number - 1 : kMin;
  std::vector<OpenSale> out;
  int64_t covered = 0;
  while (!cover.has_value() || covered < *cover) {
    LEDGER_ASSIGN_OR_RETURN(rows, tx.Query(kPageSql, {ctx.tenant_id, customer_id, after_time,
                                                      after_time, after_number, page}));
    for (const Row& row : rows) {
      out.push_back({row.GetText(0), row.GetInt(1), SalePlace{row.GetInt(2), row.GetInt(3)},
                     row.IsNull(4) ? std::nullopt : ParseDay(row.GetText(4))});
      covered += row.GetInt(1);
      after_time = row.GetInt(2);
      after_number = row.GetInt(3);
    }
    if (static_cast<int64_t>(rows.size()) < page) break;
  }
  return out;
}

absl::StatusOr<OpenSalesAfter> ReadOpenSalesAfter(Transaction& tx, const LedgerContext& ctx,
                                                  const std::string& customer_id,
                                                  std::optional<SalePlace> from, bool with_due) {
  // Without the due dates, one page: the first open sale is the oldest.
  LEDGER_ASSIGN_OR_RETURN(
      open,
      OpenSales(tx, ctx, customer_id, with_due ? std::nullopt : std::optional<int64_t>(1), from));
  OpenSalesAfter out;
  out.due_read = with_due;
  // In order of sale time: the first is the oldest.
  if (!open.empty()) out.oldest_time_micros = open.front().place.time_micros;
  for (const OpenSale& sale : open) {
    if (sale.due && (!out.earliest_due || *sale.due < *out.earliest_due)) {
      out.earliest_due = sale.due;
    }
  }
  return out;
}

// Active payments of a customer holding credit, oldest first.
absl::StatusOr<std::vector<CreditSource>> CreditSources(Transaction& tx, const LedgerContext& ctx,
                                                        const std::string& customer_id) {
  LEDGER_ASSIGN_OR_RETURN(
      rows, tx.Query(absl::StrCat(
                         "SELECT payment_id, ", kPaymentUnallocated, " FROM (", kPaymentSelect,
                         " WHERE p.tenant_id = ? AND p.customer_id = ?) d WHERE ",
                         kPaymentUnallocated, " > 0 ORDER BY received_time_micros ASC, number ASC"),
                     {ctx.tenant_id, customer_id}));
  std::vector<CreditSource> out;
  for (const Row& row : rows) out.push_back({row.GetText(0), row.GetInt(1)});
  return out;
}

absl::Status AppendEvent(const events::Outbox& outbox, Transaction& tx, const LedgerContext& ctx,
                         const std::string& customer_id, int64_t version,
                         const std::string& walk_in_sale_id, int64_t walk_in_version,
                         const google::protobuf::Message& payload, const std::string& request_id) {
  events::NewEvent e;
  e.tenant_id = ctx.tenant_id;
  if (!customer_id.empty()) {
    e.aggregate_type = "customer";
    e.aggregate_id = customer_id;
    e.aggregate_version = version;
  } else {
    e.aggregate_type = "sale";
    e.aggregate_id = walk_in_sale_id;
    e.aggregate_version = walk_in_version;
  }
  e.payload = &payload;
  e.request_id = request_id;
  e.principal = ctx.principal;
  return outbox.Append(tx, e);
}

absl::Status AppendLimitEvent(const events::Outbox& outbox, Transaction& tx,
                              const LedgerContext& ctx, const std::string& subject,
                              const std::string& subject_id, int64_t version,
                              const v1::CreditLimit* limit, const std::string& request_id) {
  v1::CreditLimitChanged event;
  if (subject == "customer") {
    event.set_customer_id(subject_id);
  } else {
    event.set_category_id(subject_id);
  }
  if (limit != nullptr) *event.mutable_credit_limit() = *limit;
  events::NewEvent e;
  e.tenant_id = ctx.tenant_id;
  e.aggregate_type = "credit_limit";
  e.aggregate_id = absl::StrCat(subject, ":", subject_id);
  e.aggregate_version = version;
  e.payload = &event;
  e.request_id = request_id;
  e.principal = ctx.principal;
  return outbox.Append(tx, e);
}

}  // namespace kelola::ledger::entries
