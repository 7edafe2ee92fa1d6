#include "ledger-svc/domain/sale_math.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

absl::Status Overflow() {
  return errors::Error(absl::StatusCode::kInvalidArgument, "AMOUNT_OVERFLOW",
                       "amount does not fit in 64 bits");
}

}  // namespace

absl::Status RequestAmountOverflow(absl::string_view field, absl::string_view detail) {
  return errors::Error(absl::StatusCode::kInvalidArgument, "AMOUNT_OVERFLOW",
                       absl::StrCat(field, ": ", detail), {{"field", std::string(field)}},
                       {{std::string(field), std::string(detail)}});
}

absl::Status TotalOverflow(absl::string_view total) {
  return errors::Error(absl::StatusCode::kFailedPrecondition, "AMOUNT_OVERFLOW",
                       absl::StrCat("the ", total, " would not fit in 64 bits"),
                       {{"field", std::string(total)}});
}

absl::StatusOr<int64_t> AddToTotal(int64_t a, int64_t b, absl::string_view total) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return TotalOverflow(total);
  return out;
}

absl::StatusOr<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return Overflow();
  return out;
}

absl::StatusOr<int64_t> CheckedSub(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) return Overflow();
  return out;
}

absl::StatusOr<int64_t> LineGross(int64_t quantity_milli, int64_t unit_price) {
  const __int128 product = static_cast<__int128>(quantity_milli) * unit_price;
  // Round half up (both factors are non-negative).
  const __int128 rounded = (product + 500) / 1000;
  if (rounded > INT64_MAX || rounded < INT64_MIN) return Overflow();
  return static_cast<int64_t>(rounded);
}

absl::StatusOr<int64_t> LineAmount(const LineInput& line) {
  auto gross = LineGross(line.quantity_milli, line.unit_price);
  if (!gross.ok()) return gross.status();
  return CheckedSub(*gross, line.line_discount);
}

absl::StatusOr<SaleTotals> ComputeTotals(const std::vector<LineInput>& lines,
                                         int64_t order_discount) {
  SaleTotals out;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto amount = LineAmount(lines[i]);
    if (!amount.ok()) {
      return RequestAmountOverflow(absl::StrCat("items[", i, "].unit_price"),
                                   "quantity_milli × unit_price does not fit in 64 bits");
    }
    out.line_amounts.push_back(*amount);
    if (__builtin_add_overflow(out.subtotal, *amount, &out.subtotal)) {
      return RequestAmountOverflow("items", "the line amounts add up to more than 64 bits hold");
    }
  }
  auto total = CheckedSub(out.subtotal, order_discount);
  if (!total.ok()) return total.status();
  out.total = *total;
  return out;
}

SaleStatus SaleAmounts::status() const {
  if (voided) return SaleStatus::kVoided;
  const int64_t net = total - refunded;
  if (net <= 0 && refunded > 0) return SaleStatus::kRefunded;
  if (outstanding() == 0) return SaleStatus::kPaid;
  if (paid <= 0) return SaleStatus::kUnpaid;
  return SaleStatus::kPartial;
}

int32_t DaysOverdue(const std::optional<absl::CivilDay>& due_date, int64_t outstanding,
                    absl::CivilDay today) {
  if (!due_date.has_value() || outstanding <= 0 || today <= *due_date) return 0;
  return static_cast<int32_t>(today - *due_date);
}

std::vector<PlannedAllocation> AllocateOldestFirst(int64_t amount,
                                                   const std::vector<OpenSale>& open_sales) {
  std::vector<PlannedAllocation> out;
  int64_t left = amount;
  for (const OpenSale& sale : open_sales) {
    if (left <= 0) break;
    if (sale.outstanding <= 0) continue;
    const int64_t take = std::min(left, sale.outstanding);
    out.push_back({sale.sale_id, take});
    left -= take;
  }
  return out;
}

std::optional<SalePlace> SettledBeforeAfterPlan(std::optional<SalePlace> from,
                                                const std::vector<OpenSale>& open,
                                                const std::vector<PlannedAllocation>& plan) {
  if (plan.empty()) return from;
  for (auto it = open.rbegin(); it != open.rend(); ++it) {
    if (it->sale_id == plan.back().sale_id) return it->place;
  }
  return from;  // not one of `open`: nothing is known beyond `from`
}

std::optional<SalePlace> SettledBeforeWithSale(std::optional<SalePlace> bound, SalePlace sale,
                                               bool open) {
  if (!bound.has_value() || !open || !(sale < *bound)) return bound;
  return sale;
}

int64_t AverageOrder(int64_t total_spent, int64_t count) {
  if (count <= 0) return 0;
  const __int128 t = total_spent;
  __int128 q = t / count;
  const __int128 r = t % count;
  if (r * 2 >= count) ++q;
  return static_cast<int64_t>(q);
}

}  // namespace kelola::ledger
