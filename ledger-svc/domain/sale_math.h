#pragma once

// Pure money rules of the ledger (L1, L8, L12): line amounts, totals, derived sale
// amounts and status, overdue days and oldest-first allocation. No gRPC, no SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace kelola::ledger {

// Sale statuses, numbered as kelola.ledger.v1.SaleStatus.
enum class SaleStatus { kUnpaid = 1, kPartial = 2, kPaid = 3, kRefunded = 4, kVoided = 5 };

// One line as given by the client, in minor units.
struct LineInput {
  int64_t quantity_milli = 0;
  int64_t unit_price = 0;
  int64_t line_discount = 0;
};

// AMOUNT_OVERFLOW (L8) comes in two kinds:
// - the request's own amounts do not fit (a line amount, the sum of the lines or of the
//   allocations): INVALID_ARGUMENT naming the request field (BadRequest and metadata
//   `field`);
// - the request is fine but would take a stored total of the customer (balance, credit,
//   total_spent, total_paid, overdue_amount) or a listed sum (total_balance) beyond a
//   signed 64-bit count of minor units: FAILED_PRECONDITION with metadata `field` naming
//   that total. Nothing is written in either case.
absl::Status RequestAmountOverflow(absl::string_view field, absl::string_view detail);
absl::Status TotalOverflow(absl::string_view total);

// a + b, or FAILED_PRECONDITION AMOUNT_OVERFLOW naming the stored total `total`.
absl::StatusOr<int64_t> AddToTotal(int64_t a, int64_t b, absl::string_view total);

// round_half_up(quantity_milli * unit_price / 1000) - line_discount, overflow-checked
// (INVALID_ARGUMENT AMOUNT_OVERFLOW). Inputs must already be non-negative.
absl::StatusOr<int64_t> LineAmount(const LineInput& line);
// The gross amount of a line, before its discount.
absl::StatusOr<int64_t> LineGross(int64_t quantity_milli, int64_t unit_price);

struct SaleTotals {
  std::vector<int64_t> line_amounts;
  int64_t subtotal = 0;
  int64_t total = 0;  // subtotal - order_discount
};
// Line amounts, subtotal and total. AMOUNT_OVERFLOW naming `items[i].unit_price` for a
// line that does not fit, `items` for a sum of lines that does not.
absl::StatusOr<SaleTotals> ComputeTotals(const std::vector<LineInput>& lines,
                                         int64_t order_discount);

// Overflow-checked sum and difference of minor units (AMOUNT_OVERFLOW).
absl::StatusOr<int64_t> CheckedAdd(int64_t a, int64_t b);
absl::StatusOr<int64_t> CheckedSub(int64_t a, int64_t b);

// The amounts of a sale derived from its entries.
struct SaleAmounts {
  int64_t total = 0;
  int64_t paid = 0;      // sum of allocation entries
  int64_t refunded = 0;  // sum of refunds
  bool voided = false;

  int64_t net_total() const { return voided ? 0 : total - refunded; }
  int64_t outstanding() const {
    if (voided) return 0;
    const int64_t o = total - refunded - paid;
    return o > 0 ? o : 0;
  }
  SaleStatus status() const;
};

// today - due_date when something is outstanding and today is after the due date.
int32_t DaysOverdue(const std::optional<absl::CivilDay>& due_date, int64_t outstanding,
                    absl::CivilDay today);

// A sale's place in a customer's oldest-first order: its sale time, then its number.
struct SalePlace {
  int64_t time_micros = 0;
  int64_t number = 0;
  friend bool operator<(const SalePlace& a, const SalePlace& b) {
    return a.time_micros != b.time_micros ? a.time_micros < b.time_micros : a.number < b.number;
  }
  friend bool operator==(const SalePlace& a, const SalePlace& b) {
    return a.time_micros == b.time_micros && a.number == b.number;
  }
};

// An open sale as seen by the automatic allocator.
struct OpenSale {
  std::string sale_id;
  int64_t outstanding = 0;
  SalePlace place;
  std::optional<absl::CivilDay> due;
};

struct PlannedAllocation {
  std::string sale_id;
  int64_t amount = 0;
};

// Allocates up to `amount` to `open_sales` in the given order (callers pass oldest
// first), each at most its outstanding amount. The rest is amount - sum(result).
std::vector<PlannedAllocation> AllocateOldestFirst(int64_t amount,
                                                   const std::vector<OpenSale>& open_sales);

// Where a customer's open sales begin ("settled before"): every sale of the customer placed
// before it is settled, so that the oldest-first allocator need not read them again. A
// customer's ledger row keeps it; nullopt means unknown (read from the first sale).
//
// After `plan` was allocated over `open` (both oldest first, `open` read from `from`): the
// place of the last sale that received an allocation, since every open sale before it was
// covered in full and the sales between them were settled already; `from` when nothing was
// allocated.
std::optional<SalePlace> SettledBeforeAfterPlan(std::optional<SalePlace> from,
                                                const std::vector<OpenSale>& open,
                                                const std::vector<PlannedAllocation>& plan);

// After a new sale at `sale` that is open (something outstanding) or not: an open sale
// placed before the bound (a sale recorded late with an earlier sale time) moves it back.
std::optional<SalePlace> SettledBeforeWithSale(std::optional<SalePlace> bound, SalePlace sale,
                                               bool open);

// total_spent / count rounded half up; 0 when count is 0.
int64_t AverageOrder(int64_t total_spent, int64_t count);

}  // namespace kelola::ledger
