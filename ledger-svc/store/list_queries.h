#pragma once

// What the List reads of LedgerStore take and give, as plain values. A query is already
// checked (api/ledger_queries.h maps the request: filter text, order_by, page size and
// page token): its filter is typed conditions in the order the filter gave them, which is
// the order of the SQL conditions; a page resumes after the sort key of the previous
// page's last row. A page carries that key for its own last row when more rows follow;
// the api layer turns it into the next_page_token. Records are the stored formats
// (v1::Sale, v1::Payment, v1::CreditLimit), as the other reads return them.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/civil_time.h"
#include "kelola/ledger/v1/balance.pb.h"
#include "kelola/ledger/v1/ledger.pb.h"

namespace kelola::ledger {

// An instant column (Unix microseconds) against `micros`.
struct TimeBound {
  enum Op { kBefore, kAtOrBefore, kAfter, kAtOrAfter };  // < <= > >=
  Op op = kAtOrAfter;
  int64_t micros = 0;
};

// The entry's store is (`equal`) or is not `store_id`.
struct StoreIs {
  std::string store_id;
  bool equal = true;
};

// The sort key of a row of ListSales (sale time, sale number) or ListPayments (received
// time, payment number).
struct EntryKey {
  int64_t time_micros = 0;
  int64_t number = 0;
};

// ---- ListSales

// The sale's status is (`equal`) or is not `status`.
struct SaleStatusIs {
  v1::SaleStatus status = v1::SALE_STATUS_UNPAID;
  bool equal = true;
};
// Something is (`open`) or nothing is outstanding.
struct SaleOpen {
  bool open = true;
};
// Outstanding past its due date as of the tenant's today (`overdue`), or not.
struct SaleOverdue {
  bool overdue = true;
};
// A walk-in sale (no customer), or a customer's.
struct SaleWalkIn {
  bool walk_in = true;
};
// TimeBound is on the sale time.
using SaleCondition =
    std::variant<TimeBound, SaleStatusIs, SaleOpen, SaleOverdue, StoreIs, SaleWalkIn>;

struct SaleListQuery {
  std::string customer_id;  // empty: every customer's sales and the walk-in ones
  std::vector<SaleCondition> conditions;
  bool oldest_first = false;  // by (sale time, number); else newest first
  v1::SaleView view = v1::SALE_VIEW_BASIC;
  int page_size = 50;
  std::optional<EntryKey> after;
};

struct SalePage {
  std::vector<v1::Sale> sales;
  std::optional<EntryKey> next_after;  // the last sale's key, when more follow
};

// ---- ListPayments

struct PaymentMethodIs {
  v1::PaymentMethod method = v1::PAYMENT_METHOD_CASH;
  bool equal = true;
};
struct PaymentStatusIs {
  v1::PaymentStatus status = v1::PAYMENT_STATUS_ACTIVE;
  bool equal = true;
};
struct PaymentOriginIs {
  v1::PaymentOrigin origin = v1::PAYMENT_ORIGIN_PAYMENT;
  bool equal = true;
};
// Some of the payment is unallocated (`has_credit`), or none.
struct PaymentHasCredit {
  bool has_credit = true;
};
// TimeBound is on the received time.
using PaymentCondition = std::variant<TimeBound, PaymentMethodIs, PaymentStatusIs, PaymentOriginIs,
                                      StoreIs, PaymentHasCredit>;

struct PaymentListQuery {
  std::string customer_id;  // empty: every payment
  std::vector<PaymentCondition> conditions;
  bool oldest_first = false;  // by (received time, number); else newest first
  int page_size = 50;
  std::optional<EntryKey> after;
};

struct PaymentPage {
  std::vector<v1::Payment> payments;
  std::optional<EntryKey> next_after;  // the last payment's key, when more follow
};

// ---- ListReceivables

// A customer's figure above `value` (or at it, when `inclusive`).
struct Minimum {
  bool inclusive = false;
  int64_t value = 0;
};

// The sort key of a receivable: `key` ascending (the descending orders negate their
// figure), then the customer id.
struct ReceivableKey {
  int64_t key = 0;
  std::string customer_id;
};

struct ReceivableListQuery {
  enum Order { kBalanceDesc, kOldestOpenSaleAsc, kDaysOverdueDesc, kOverdueAmountDesc };
  std::string store_id;  // only this store's open sales; empty: every store
  std::optional<std::string> category_id;
  std::optional<bool> overdue;
  std::vector<Minimum> min_balance;
  std::vector<Minimum> min_days_overdue;
  Order order = kBalanceDesc;
  int page_size = 50;
  std::optional<ReceivableKey> after;
};

// What a customer owes. Amounts in minor units of the tenant's currency.
struct Receivable {
  std::string customer_id;
  int64_t balance = 0;
  int64_t overdue_amount = 0;
  int32_t days_overdue = 0;
  int64_t open_sale_count = 0;
  int64_t oldest_open_sale_micros = 0;
  std::optional<int64_t> last_payment_micros;  // nullopt: no payment that counts
  int64_t ledger_version = 0;
  std::optional<int64_t> credit;  // nullopt: the customer has no ledger row
};

struct ReceivablePage {
  std::vector<Receivable> receivables;
  std::optional<ReceivableKey> next_after;  // the last receivable's key, when more follow
  // Over every customer that matched, not only this page's.
  int64_t total_balance = 0;
  int64_t total_overdue_amount = 0;
  int64_t customer_count = 0;
  absl::CivilDay as_of;  // the tenant's today
};

// ---- ListCreditLimits

// The sort key of a credit limit: the order's figure (descending), subject id, subject.
struct CreditLimitKey {
  int64_t key = 0;
  std::string subject_id;
  std::string subject;
};

struct CreditLimitListQuery {
  enum Order { kUpdateTimeDesc, kLimitDesc };
  std::string subject;  // "customer" or "category"; empty: both
  Order order = kUpdateTimeDesc;
  int page_size = 50;
  std::optional<CreditLimitKey> after;
};

struct CreditLimitPage {
  std::vector<v1::CreditLimit> credit_limits;
  std::optional<CreditLimitKey> next_after;  // the last limit's key, when more follow
};

}  // namespace kelola::ledger
