#pragma once

// Exact money (L8, I3): integer minor units plus an ISO 4217 currency code. No floating
// point anywhere; every arithmetic operation is checked for overflow and refuses to mix
// currencies.
//
// Errors are INVALID_ARGUMENT built with kelola::errors::Error(), carrying one of the
// kReason* constants below (read it back with kelola::errors::Reason()).

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kelola::money {

// Machine-readable reasons.
inline constexpr char kReasonAmountOverflow[] = "AMOUNT_OVERFLOW";
inline constexpr char kReasonCurrencyMismatch[] = "CURRENCY_MISMATCH";
inline constexpr char kReasonCurrencyUnsupported[] = "CURRENCY_UNSUPPORTED";
// ParseDecimal: not a plain decimal number.
inline constexpr char kReasonAmountInvalid[] = "AMOUNT_INVALID";
// ParseDecimal: more decimals than the currency has minor units.
inline constexpr char kReasonAmountTooPrecise[] = "AMOUNT_TOO_PRECISE";
// ApplyBasisPoints: a discount outside 0..10000 basis points.
inline constexpr char kReasonBasisPointsOutOfRange[] = "BASIS_POINTS_OUT_OF_RANGE";

// 100% in basis points.
inline constexpr int64_t kBasisPointsPerUnit = 10000;

struct Money {
  int64_t amount_minor = 0;   // e.g. 123450 for THB 1,234.50
  std::string currency_code;  // upper-case ISO 4217, e.g. "IDR", "THB"

  bool operator==(const Money& o) const {
    return amount_minor == o.amount_minor && currency_code == o.currency_code;
  }
  bool operator!=(const Money& o) const { return !(*this == o); }
};

// An entry of the built-in ISO 4217 table. The tenant currencies are IDR and THB (both with
// 2 minor units per ISO 4217, even though rupiah cents are not used in daily life); a few
// regional and major currencies are known too so that imported data in those currencies is
// understood instead of refused as garbage.
struct CurrencyInfo {
  std::string_view code;  // "IDR"
  int minor_units;        // 2 for IDR and THB, 0 for JPY/VND/KRW
};

// The table entry for `code` (exact, upper-case match); INVALID_ARGUMENT
// CURRENCY_UNSUPPORTED for anything else (including "idr").
absl::StatusOr<CurrencyInfo> LookupCurrency(std::string_view code);

// OK when `money.currency_code` is in the table.
absl::Status Validate(const Money& money);

// a + b, a - b. CURRENCY_MISMATCH when the codes differ, AMOUNT_OVERFLOW when the result does
// not fit in int64.
absl::StatusOr<Money> Add(const Money& a, const Money& b);
absl::StatusOr<Money> Subtract(const Money& a, const Money& b);

// unit_price * quantity (quantity may be negative, e.g. returns). AMOUNT_OVERFLOW on overflow.
absl::StatusOr<Money> Multiply(const Money& unit_price, int64_t quantity);

// The share `bps`/10000 of `amount`, rounded to the minor unit HALF AWAY FROM ZERO, computed
// exactly with 128-bit integers (no floating point). `bps` may be any value (e.g. 1100 for an
// 11% tax, 15000 for 150%); AMOUNT_OVERFLOW when the result does not fit in int64.
//   BasisPointsOf(THB 0.05, 5000) = THB 0.03 (0.025 rounds away from zero)
//   BasisPointsOf(THB -0.05, 5000) = THB -0.03
absl::StatusOr<Money> BasisPointsOf(const Money& amount, int64_t bps);

// The price after a discount of `discount_bps` (0..10000, i.e. 0%..100%):
//   amount - BasisPointsOf(amount, discount_bps)
// i.e. the DISCOUNT is rounded half away from zero to the minor unit and then subtracted, so
// that discount + discounted price == amount exactly (a receipt always adds up).
//   ApplyBasisPoints(IDR 0.05, 5000) = IDR 0.02 (discount 0.03)
// BASIS_POINTS_OUT_OF_RANGE outside 0..10000.
absl::StatusOr<Money> ApplyBasisPoints(const Money& amount, int64_t discount_bps);

// Display form for exports and receipts (I3):
//   IDR: "Rp1.234.567"; with a non-zero minor part "Rp1.234.567,50"
//   THB: "฿1,234.50" (always two decimals)
//   other known currencies: "<CODE> 1,234.50" (as many decimals as minor units)
// Negative amounts carry a leading minus: "-Rp1.500", "-฿0.50".
absl::StatusOr<std::string> FormatForLocale(const Money& money);

// Parses a plain decimal string with '.' as the decimal separator into exact minor units:
//   ParseDecimal("1234.50", "THB") -> {123450, "THB"};  "1234.5" -> 123450;  "1234" -> 123400
// Grammar: an optional '-', one or more ASCII digits, optionally '.' followed by one or more
// digits. No spaces, no '+', no group separators, no exponent. AMOUNT_INVALID for anything
// else, AMOUNT_TOO_PRECISE for more decimals than the currency has ("1.234" for THB; "1.5" for
// JPY), AMOUNT_OVERFLOW when it does not fit in int64, CURRENCY_UNSUPPORTED for an unknown code.
absl::StatusOr<Money> ParseDecimal(std::string_view text, std::string_view currency_code);

}  // namespace kelola::money
