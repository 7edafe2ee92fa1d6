#pragma once

// The SQL over the ledger's entries, taking a transaction and plain values: the steps of
// the writes (the app layer's use cases, app/, running them through LedgerWriter) and of
// the reads (ledger_reads.cc). Derived amounts are sums over insert-only entries, computed
// in SQL; see docs/decisions/ledger-model.md.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/domain/credit_rules.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/directory_projection.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/db/database.h"
#include "libs/errors/errors.h"
#include "libs/events/outbox.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

#define LEDGER_RETURN_IF_ERROR(expr) \
  do {                               \
    absl::Status _st = (expr);       \
    if (!_st.ok()) return _st;       \
  } while (0)

#define LEDGER_ASSIGN_OR_RETURN(lhs, expr)      \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *std::move(lhs##_or)

namespace kelola::ledger::entries {

using db::Bytes;
using db::Row;
using db::Transaction;
using db::Value;

inline constexpr char kSaleSelect[] =
    "SELECT s.record, "
    "COALESCE((SELECT SUM(a.amount) FROM allocations a WHERE a.tenant_id = s.tenant_id "
    "AND a.sale_id = s.sale_id), 0) AS paid, "
    "COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.tenant_id = s.tenant_id "
    "AND r.sale_id = s.sale_id), 0) AS refunded, "
    "(SELECT COUNT(*) FROM voids v WHERE v.tenant_id = s.tenant_id AND v.entity = 'sale' "
    "AND v.entity_id = s.sale_id) AS voided, "
    "s.sale_time_micros, s.number, s.due_date, s.total, s.customer_id, s.store_id, s.sale_id "
    "FROM sales s";

// Column expressions over kSaleSelect's derived table.
inline constexpr char kSaleOutstanding[] =
    "(CASE WHEN voided > 0 THEN 0 WHEN total - refunded - paid > 0 THEN total - refunded - paid "
    "ELSE 0 END)";

inline constexpr char kSaleStatus[] =
    "(CASE WHEN voided > 0 THEN 5 WHEN total - refunded <= 0 AND refunded > 0 THEN 4 "
    "WHEN total - refunded - paid <= 0 THEN 3 WHEN paid <= 0 THEN 1 ELSE 2 END)";

inline constexpr char kPaymentSelect[] =
    "SELECT p.record, "
    "COALESCE((SELECT SUM(a.amount) FROM allocations a WHERE a.tenant_id = p.tenant_id "
    "AND a.payment_id = p.payment_id), 0) AS allocated, "
    "COALESCE((SELECT SUM(0 - a.amount) FROM allocations a WHERE a.tenant_id = p.tenant_id "
    "AND a.payment_id = p.payment_id AND a.payout = 1), 0) AS returned, "
    "(SELECT COUNT(*) FROM voids v WHERE v.tenant_id = p.tenant_id AND v.entity = 'payment' "
    "AND v.entity_id = p.payment_id) AS voided, "
    "p.received_time_micros, p.number, p.amount, p.method, p.origin, p.store_id, p.customer_id, "
    "p.payment_id FROM payments p";

inline constexpr char kPaymentUnallocated[] =
    "(CASE WHEN voided > 0 THEN 0 ELSE amount - allocated - returned END)";

// A sale's stored record and the amounts derived from its entries.
struct SaleFacts {
  v1::Sale record;
  SaleAmounts amounts;
  int64_t sale_time_micros = 0;
  std::optional<absl::CivilDay> due;
};

// A payment's stored record and the amounts derived from its entries.
struct PaymentFacts {
  v1::Payment record;
  int64_t amount = 0;
  int64_t allocated = 0;
  int64_t returned = 0;
  bool voided = false;
  int64_t unallocated() const { return voided ? 0 : amount - allocated - returned; }
};

// A customer's ledger row as locked at the start of a write.
struct CustomerRow {
  int64_t version = 0;
  int64_t balance = 0;
  int64_t credit = 0;
  // The stored statistics (serialized CustomerLedgerStats) at `version`; empty when none.
  std::string stats;
  // The delete operation that sealed the customer (C4); empty when not sealed.
  std::string seal_id;
  // The survivor the customer was merged into (C7); empty when not merged.
  std::string merged_into;
  // Where the customer's open sales begin (SettledBeforeAfterPlan); nullopt: unknown.
  std::optional<SalePlace> settled_before;
};

// A customer's ledger row locked for a sale, and what the sale needs besides.
struct SaleCustomer {
  CustomerRow row;
  std::optional<int64_t> own_limit;       // the customer's own credit limit, when set
  std::optional<int64_t> category_limit;  // its category's, when set
  // The directory projection's row of the customer; nullopt when it holds none.
  std::optional<customer_stream::CustomerRow> directory;
  // The limit that applies: the customer's own, else its category's.
  std::optional<int64_t> effective_limit() const {
    return EffectiveCreditLimit(own_limit, category_limit);
  }
};

// What a write added to a customer's ledger, for updating the stored statistics without
// reading the customer's history (StatsDelta is applied only when the stored statistics
// are of this version and of today; otherwise, or when a change needs the other open
// sales, e.g. the oldest open sale got paid, the statistics are recomputed).
struct StatsDelta {
  struct NewSale {
    int64_t net_total = 0;
    int64_t time_micros = 0;
    std::optional<absl::CivilDay> due;
    int64_t outstanding = 0;  // after this write
  };
  struct NewPayment {
    int64_t amount = 0;
    int64_t received_micros = 0;
    bool origin_payment = false;  // PAYMENT_ORIGIN_PAYMENT (counts as last_payment)
    int64_t unallocated = 0;      // its credit after this write
  };
  // An existing sale that this write paid (part of).
  struct PaidSale {
    int64_t time_micros = 0;
    std::optional<absl::CivilDay> due;
    int64_t before = 0;  // outstanding before the write
    int64_t after = 0;   // and after
  };
  std::vector<NewSale> new_sales;
  std::vector<NewPayment> new_payments;
  std::vector<PaidSale> paid_sales;
  int64_t credit_used = 0;  // credit of existing payments allocated by this write
};

// The customer's open sales after a write, read when the write closes the sale that a
// minimum or maximum of the statistics came from: the oldest sale time (the first open
// sale) and, when `due_read`, the earliest due date among them all (which also gives
// days_overdue).
struct OpenSalesAfter {
  std::optional<int64_t> oldest_time_micros;
  bool due_read = false;
  std::optional<absl::CivilDay> earliest_due;
};

// Which of the statistics' minimums a sale the delta closes came from, so that the open
// sales after the write must decide them: the oldest open sale time, and the earliest due
// date with days_overdue.
struct OpenSalesNeeded {
  bool oldest = false;
  bool due = false;
};
OpenSalesNeeded NeededOpenSales(const v1::CustomerLedgerStats& stats, const StatsDelta& delta,
                                absl::CivilDay today);

// `stats` with `delta` applied, as of `today` at `version`; nullopt when the delta cannot
// be applied exactly (the caller recomputes). A delta that closes the sale the oldest open
// time came from needs `open_after`; one that closes the sale the earliest due date or
// days_overdue came from needs it with `due_read`.
std::optional<v1::CustomerLedgerStats> ApplyStatsDelta(const v1::CustomerLedgerStats& stats,
                                                       const StatsDelta& delta, int64_t version,
                                                       absl::CivilDay today,
                                                       const std::string& currency,
                                                       const OpenSalesAfter* open_after = nullptr);

// OpenSalesAfter from the customer's open sales, read from `from` on: the first of them,
// or, `with_due`, all of them.
absl::StatusOr<OpenSalesAfter> ReadOpenSalesAfter(Transaction& tx, const LedgerContext& ctx,
                                                  const std::string& customer_id,
                                                  std::optional<SalePlace> from, bool with_due);

// An error with a kelola.ledger.v1.ErrorReason name (errors::Error).
absl::Status Err(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                 const errors::Metadata& metadata = {},
                 const std::vector<errors::FieldViolation>& fields = {});

// Money in the tenant's currency.
type::v1::Money M(int64_t amount, const std::string& currency);

// Timestamps are stored as Unix microseconds.
void SetTime(google::protobuf::Timestamp* ts, int64_t micros);

int64_t Micros(const google::protobuf::Timestamp& ts);

// Dates are stored as "YYYY-MM-DD" (tenant's calendar).
std::string DayText(absl::CivilDay day);

std::optional<absl::CivilDay> ParseDay(absl::string_view text);

type::v1::Date ToDate(absl::CivilDay day);

// The first instant of `day` in `tz`.
int64_t DayStartMicros(absl::CivilDay day, absl::TimeZone tz);

// Rows of kSaleSelect / kPaymentSelect.
SaleFacts SaleFactsFromRow(const Row& row);

PaymentFacts PaymentFactsFromRow(const Row& row);

absl::StatusOr<v1::VoidInfo> LoadVoidInfo(Transaction& tx, const std::string& tenant,
                                          absl::string_view entity, const std::string& id);

absl::StatusOr<std::vector<v1::Allocation>> LoadAllocations(Transaction& tx,
                                                            const LedgerContext& ctx,
                                                            absl::string_view column,
                                                            const std::string& id);

absl::StatusOr<std::vector<v1::Refund>> LoadRefunds(Transaction& tx, const LedgerContext& ctx,
                                                    const std::string& sale_id);

// A full Sale message from its facts.
absl::StatusOr<v1::Sale> BuildSale(Transaction& tx, const LedgerContext& ctx, const SaleFacts& f,
                                   v1::SaleView view, absl::CivilDay today);

// `allocations`: the payment's allocations when the caller knows them (a payment it has
// just inserted); nullptr = read from the database.
absl::StatusOr<v1::Payment> BuildPayment(Transaction& tx, const LedgerContext& ctx,
                                         const PaymentFacts& f,
                                         const std::vector<v1::Allocation>* allocations = nullptr);

// Find*: nullopt when absent; Get*: NOT_FOUND SALE_NOT_FOUND / PAYMENT_NOT_FOUND.
absl::StatusOr<std::optional<SaleFacts>> FindSale(Transaction& tx, const LedgerContext& ctx,
                                                  const std::string& sale_id);

absl::StatusOr<SaleFacts> GetSaleFacts(Transaction& tx, const LedgerContext& ctx,
                                       const std::string& sale_id);

absl::StatusOr<std::optional<PaymentFacts>> FindPayment(Transaction& tx, const LedgerContext& ctx,
                                                        const std::string& payment_id);

absl::StatusOr<PaymentFacts> GetPaymentFacts(Transaction& tx, const LedgerContext& ctx,
                                             const std::string& payment_id);

// A customer's statistics computed from its entries, as of `today`.
absl::StatusOr<v1::CustomerLedgerStats> ComputeStats(Transaction& tx, const LedgerContext& ctx,
                                                     const std::string& customer_id,
                                                     int64_t version, absl::CivilDay today);

// Locks the customer's ledger row (creating it), so that writes of one customer
// serialize on both drivers, and refuses a sealed (FAILED_PRECONDITION CUSTOMER_SEALED) or
// merged (CUSTOMER_MERGED) customer: no entry is ever added for them.
absl::StatusOr<CustomerRow> LockCustomer(Transaction& tx, const LedgerContext& ctx,
                                         const std::string& customer_id);

// LockCustomer without the refusal, for the protocols that seal, unseal and merge.
absl::StatusOr<CustomerRow> LockCustomerRow(Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id);

// LockCustomerRow for a sale (without the refusal), reading the credit limits and the
// directory projection's row in the locking statement (one round trip). Stores the
// customer's category with the row when it changed (receivables by category):
// `checked_category` when customer-svc was asked, else the projection's.
absl::StatusOr<SaleCustomer> LockCustomerForSale(Transaction& tx, const LedgerContext& ctx,
                                                 const std::string& customer_id,
                                                 const std::string* checked_category);

// The customer's locked ledger row and the directory projection's row of it (nullopt when
// the projection holds none).
struct LockedCustomer {
  CustomerRow row;
  std::optional<customer_stream::CustomerRow> directory;
};

// LockCustomerRow (without the refusal) and the directory projection's row, in one
// statement (RecordPayment).
absl::StatusOr<LockedCustomer> LockCustomerWithDirectory(Transaction& tx, const LedgerContext& ctx,
                                                         const std::string& customer_id);

// OK when entries may be added for the customer, else CUSTOMER_SEALED / CUSTOMER_MERGED.
absl::Status CheckOpen(const CustomerRow& row, const std::string& customer_id);

// The customer's seal and merge marks as statistics show them (sealed,
// merged_into_customer_id), read without locking; all empty when the customer has no row.
absl::StatusOr<CustomerRow> ReadCustomerRow(Transaction& tx, const LedgerContext& ctx,
                                            const std::string& customer_id);

// Stores the customer's statistics at version + 1: the stored ones with `delta` applied
// when possible (see StatsDelta), else recomputed from the entries. With them, where the
// customer's open sales begin: `settled_before` as the write worked it out, or unknown
// (nullopt), which every write that may reopen a sale or move sales leaves by default.
absl::StatusOr<v1::CustomerLedgerStats> BumpCustomer(
    Transaction& tx, const LedgerContext& ctx, const std::string& customer_id,
    const CustomerRow& before, absl::CivilDay today, const StatsDelta* delta = nullptr,
    std::optional<SalePlace> settled_before = std::nullopt);

// BumpCustomer, and the new statistics recorded in the write's response (ledger_version,
// customer_stats) and event (customer_id, ledger_version, stats); returns them.
template <typename Response, typename Event>
absl::StatusOr<v1::CustomerLedgerStats> BumpAndRecord(
    Transaction& tx, const LedgerContext& ctx, const std::string& customer_id,
    const CustomerRow& before, absl::CivilDay today, const StatsDelta* delta, Response& out,
    Event& event, std::optional<SalePlace> settled_before = std::nullopt) {
  LEDGER_ASSIGN_OR_RETURN(stats,
                          BumpCustomer(tx, ctx, customer_id, before, today, delta, settled_before));
  out.set_ledger_version(stats.ledger_version());
  *out.mutable_customer_stats() = stats;
  event.set_customer_id(customer_id);
  event.set_ledger_version(stats.ledger_version());
  *event.mutable_stats() = stats;
  return stats;
}

// The next value of a per-tenant counter (sale and payment numbers, entry order).
absl::StatusOr<int64_t> NextCounter(Transaction& tx, const std::string& tenant,
                                    absl::string_view name);

// A sale's amounts for event payloads.
v1::SalePosition Position(const v1::Sale& sale);

// Inserts one allocation entry.
absl::Status InsertAllocation(Transaction& tx, const LedgerContext& ctx, ids::IdGenerator& ids,
                              int64_t now_micros, const std::string& request_id,
                              const std::string& sale_id, const std::string& payment_id,
                              int64_t amount, v1::AllocationKind kind,
                              const std::string& refund_id = "", bool payout = false,
                              std::string* id_out = nullptr);

// Inserts the row of payment `p` (its id, number, customer, store, method, origin and sale
// as set on it) with its amount in minor units and its received time.
absl::Status InsertPayment(Transaction& tx, const LedgerContext& ctx, const v1::Payment& p,
                           int64_t amount_minor, int64_t received_micros);

absl::Status InsertVoid(Transaction& tx, const LedgerContext& ctx, absl::string_view entity,
                        const std::string& id, const std::string& customer_id,
                        const v1::VoidInfo& info);

// Net amount each payment has allocated to a sale (positive only), in entry order.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> NetAllocationsBySale(
    Transaction& tx, const LedgerContext& ctx, const std::string& sale_id);

// Open sales of a customer, oldest first, from `from` on (every sale placed before it is
// settled: CustomerRow::settled_before); with `cover`, only as many of the oldest as it
// takes for their outstanding amounts to reach `cover` (all when they do not).
absl::StatusOr<std::vector<OpenSale>> OpenSales(Transaction& tx, const LedgerContext& ctx,
                                                const std::string& customer_id,
                                                std::optional<int64_t> cover = std::nullopt,
                                                std::optional<SalePlace> from = std::nullopt);

// Active payments of a customer holding credit, oldest first.
absl::StatusOr<std::vector<CreditSource>> CreditSources(Transaction& tx, const LedgerContext& ctx,
                                                        const std::string& customer_id);

// Appends the change's event: aggregate customer (version = ledger version), or for a
// walk-in sale aggregate sale with `walk_in_version`.
absl::Status AppendEvent(const events::Outbox& outbox, Transaction& tx, const LedgerContext& ctx,
                         const std::string& customer_id, int64_t version,
                         const std::string& walk_in_sale_id, int64_t walk_in_version,
                         const google::protobuf::Message& payload, const std::string& request_id);

// Appends CreditLimitChanged for a limit set (`limit`) or removed (nullptr); `subject` is
// "customer" or "category", `version` the limit's version.
absl::Status AppendLimitEvent(const events::Outbox& outbox, Transaction& tx,
                              const LedgerContext& ctx, const std::string& subject,
                              const std::string& subject_id, int64_t version,
                              const v1::CreditLimit* limit, const std::string& request_id);

// The stored response of the write `rpc` with `request_id` (nullopt when none);
// ALREADY_EXISTS REQUEST_ID_REUSED when it was recorded for a different request.
absl::StatusOr<std::optional<std::string>> FindStoredResponse(Transaction& tx,
                                                              const LedgerContext& ctx,
                                                              absl::string_view rpc,
                                                              const std::string& request_id,
                                                              const idempotency::Print& print);

// Runs a write under its request_id: `body` runs after the claim of the request_id, and its
// response is stored with the key, in the same transaction. The claim is a plain insert
// sent ahead of the body's first statement (no round trip of its own on PostgreSQL); when
// the key exists, the insert fails, the transaction rolls back, and the stored response is
// returned as is (or REQUEST_ID_REUSED).
template <typename Response>
absl::StatusOr<Response> RunIdempotent(
    db::TransactionRunner& writer, const LedgerContext& ctx, absl::string_view rpc,
    const std::string& request_id, const idempotency::Print& print, int64_t now_micros,
    const std::function<absl::Status(Transaction&, Response&)>& body) {
  Response out;
  const idempotency::Key key{ctx.tenant_id, std::string(rpc), request_id};
  absl::Status status = writer.Run([&](Transaction& tx) -> absl::Status {
    out.Clear();
    LEDGER_RETURN_IF_ERROR(idempotency::Claim(tx, key, print, absl::FromUnixMicros(now_micros)));
    LEDGER_RETURN_IF_ERROR(body(tx, out));
    return idempotency::Remember(tx, key, out.SerializeAsString());
  });
  if (status.ok()) return out;
  if (!idempotency::IsClaimTaken(status)) return status;
  // A replay (rare): the earlier write's response.
  std::optional<std::string> stored;
  status = writer.Run([&](Transaction& tx) -> absl::Status {
    LEDGER_ASSIGN_OR_RETURN(found, FindStoredResponse(tx, ctx, rpc, request_id, print));
    stored = std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!stored.has_value() || !out.ParseFromString(*stored)) {
    return absl::InternalError("stored response unreadable");
  }
  return out;
}

}  // namespace kelola::ledger::entries
