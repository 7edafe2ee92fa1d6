#include "libs/money/money.h"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::money {
namespace {

// ISO 4217 codes and minor units (a deliberately small table: the tenant currencies plus
// neighbours and majors).
constexpr CurrencyInfo kCurrencies[] = {
    {"IDR", 2}, {"THB", 2}, {"AUD", 2}, {"BND", 2}, {"CNY", 2}, {"EUR", 2}, {"GBP", 2},
    {"HKD", 2}, {"INR", 2}, {"JPY", 0}, {"KHR", 2}, {"KRW", 0}, {"LAK", 2}, {"MMK", 2},
    {"MYR", 2}, {"PHP", 2}, {"SGD", 2}, {"TWD", 2}, {"USD", 2}, {"VND", 0},
};

absl::Status InvalidArgument(absl::string_view reason, absl::string_view message) {
  return errors::Error(absl::StatusCode::kInvalidArgument, reason, message);
}

absl::Status Overflow(absl::string_view what) {
  return InvalidArgument(kReasonAmountOverflow, absl::StrCat(what, " overflows the amount range"));
}

absl::Status CheckSameCurrency(const Money& a, const Money& b) {
  if (auto info = LookupCurrency(a.currency_code); !info.ok()) return info.status();
  if (a.currency_code != b.currency_code) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonCurrencyMismatch,
        absl::StrCat("cannot combine ", a.currency_code, " with ", b.currency_code),
        {{"left_currency", a.currency_code}, {"right_currency", b.currency_code}});
  }
  return absl::OkStatus();
}

// n / d rounded half away from zero; d > 0.
__int128 DivideRoundHalfAwayFromZero(__int128 n, __int128 d) {
  __int128 q = n / d;  // truncates toward zero
  __int128 r = n % d;  // same sign as n
  __int128 twice_abs_r = (r < 0 ? -r : r) * 2;
  if (twice_abs_r >= d) q += (n < 0 ? -1 : 1);
  return q;
}

bool FitsInt64(__int128 v) {
  return v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max();
}

// "1234567" -> "1.234.567" with `separator`.
std::string GroupThousands(uint64_t value, char separator) {
  std::string digits = std::to_string(value);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  size_t lead = digits.size() % 3;
  if (lead == 0) lead = 3;
  out.append(digits, 0, lead);
  for (size_t i = lead; i < digits.size(); i += 3) {
    out.push_back(separator);
    out.append(digits, i, 3);
  }
  return out;
}

uint64_t Pow10(int n) {
  uint64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// Minor part as exactly `width` digits, zero-padded.
std::string MinorDigits(uint64_t minor, int width) {
  std::string s = std::to_string(minor);
  return std::string(static_cast<size_t>(width) - s.size(), '0') + s;
}

}  // namespace

absl::StatusOr<CurrencyInfo> LookupCurrency(std::string_view code) {
  for (const CurrencyInfo& info : kCurrencies) {
    if (info.code == code) return info;
  }
  return errors::Error(
      absl::StatusCode::kInvalidArgument, kReasonCurrencyUnsupported,
      absl::StrCat("unsupported currency code \"", std::string(code.substr(0, 8)), "\""),
      {{"currency", std::string(code.substr(0, 8))}});
}

absl::Status Validate(const Money& money) { return LookupCurrency(money.currency_code).status(); }

absl::StatusOr<Money> Add(const Money& a, const Money& b) {
  if (absl::Status s = CheckSameCurrency(a, b); !s.ok()) return s;
  int64_t sum;
  if (__builtin_add_overflow(a.amount_minor, b.amount_minor, &sum)) return Overflow("sum");
  return Money{sum, a.currency_code};
}

absl::StatusOr<Money> Subtract(const Money& a, const Money& b) {
  if (absl::Status s = CheckSameCurrency(a, b); !s.ok()) return s;
  int64_t difference;
  if (__builtin_sub_overflow(a.amount_minor, b.amount_minor, &difference)) {
    return Overflow("difference");
  }
  return Money{difference, a.currency_code};
}

absl::StatusOr<Money> Multiply(const Money& unit_price, int64_t quantity) {
  if (absl::Status s = Validate(unit_price); !s.ok()) return s;
  int64_t product;
  if (__builtin_mul_overflow(unit_price.amount_minor, quantity, &product)) {
    return Overflow("product");
  }
  return Money{product, unit_price.currency_code};
}

absl::StatusOr<Money> BasisPointsOf(const Money& amount, int64_t bps) {
  if (absl::Status s = Validate(amount); !s.ok()) return s;
  // |amount| * |bps| < 2^126: the product cannot overflow 128 bits.
  __int128 share = DivideRoundHalfAwayFromZero(
      static_cast<__int128>(amount.amount_minor) * static_cast<__int128>(bps), kBasisPointsPerUnit);
  if (!FitsInt64(share)) return Overflow("basis-point share");
  return Money{static_cast<int64_t>(share), amount.currency_code};
}

absl::StatusOr<Money> ApplyBasisPoints(const Money& amount, int64_t discount_bps) {
  if (discount_bps < 0 || discount_bps > kBasisPointsPerUnit) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonBasisPointsOutOfRange,
        absl::StrCat("discount of ", discount_bps, " basis points is outside 0..10000"),
        {{"basis_points", absl::StrCat(discount_bps)}});
  }
  absl::StatusOr<Money> discount = BasisPointsOf(amount, discount_bps);
  if (!discount.ok()) return discount.status();
  // 0 <= |discount| <= |amount| with the same sign, so the subtraction cannot overflow.
  return Money{amount.amount_minor - discount->amount_minor, amount.currency_code};
}

absl::StatusOr<std::string> FormatForLocale(const Money& money) {
  absl::StatusOr<CurrencyInfo> info = LookupCurrency(money.currency_code);
  if (!info.ok()) return info.status();
  const bool negative = money.amount_minor < 0;
  // Magnitude without overflow, INT64_MIN included.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(money.amount_minor)
                                      : static_cast<uint64_t>(money.amount_minor);
  const uint64_t scale = Pow10(info->minor_units);
  const uint64_t major = magnitude / scale;
  const uint64_t minor = magnitude % scale;
  std::string out = negative ? "-" : "";
  if (info->code == "IDR") {
    absl::StrAppend(&out, "Rp", GroupThousands(major, '.'));
    if (minor != 0) absl::StrAppend(&out, ",", MinorDigits(minor, info->minor_units));
  } else if (info->code == "THB") {
    absl::StrAppend(&out, "\u0E3F", GroupThousands(major, ','), ".",
                    MinorDigits(minor, info->minor_units));
  } else {
    absl::StrAppend(&out, std::string(info->code), " ", GroupThousands(major, ','));
    if (info->minor_units > 0) absl::StrAppend(&out, ".", MinorDigits(minor, info->minor_units));
  }
  return out;
}

absl::StatusOr<Money> ParseDecimal(std::string_view text, std::string_view currency_code) {
  absl::StatusOr<CurrencyInfo> info = LookupCurrency(currency_code);
  if (!info.ok()) return info.status();
  auto invalid = [&] {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonAmountInvalid,
        absl::StrCat("\"", std::string(text.substr(0, 64)), "\" is not a decimal amount"));
  };
  size_t pos = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++pos;
  // Magnitude accumulated in 128 bits; stops growing past 2^64 so it cannot overflow.
  unsigned __int128 magnitude = 0;
  bool overflow = false;
  auto push_digit = [&](char c) {
    if (overflow) return;
    magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
    if (magnitude > (static_cast<unsigned __int128>(1) << 64)) overflow = true;
  };
  size_t integer_digits = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    push_digit(text[pos++]);
    ++integer_digits;
  }
  if (integer_digits == 0) return invalid();
  size_t fraction_digits = 0;
  const size_t minor_units = static_cast<size_t>(info->minor_units);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (fraction_digits < minor_units) push_digit(text[pos]);
      ++pos;
      ++fraction_digits;
    }
    if (fraction_digits == 0) return invalid();
  }
  if (pos != text.size()) return invalid();
  if (fraction_digits > minor_units) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonAmountTooPrecise,
        absl::StrCat(std::string(currency_code), " has ", info->minor_units, " decimal places"),
        {{"currency", std::string(currency_code)},
         {"minor_units", absl::StrCat(info->minor_units)}});
  }
  for (size_t i = fraction_digits; i < minor_units && !overflow; ++i) {
    magnitude *= 10;
    if (magnitude > (static_cast<unsigned __int128>(1) << 64)) overflow = true;
  }
  const unsigned __int128 limit =
      negative ? (static_cast<unsigned __int128>(1) << 63)
               : static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  if (overflow || magnitude > limit) return Overflow("amount");
  const __int128 value =
      negative ? -static_cast<__int128>(magnitude) : static_cast<__int128>(magnitude);
  return Money{static_cast<int64_t>(value), std::string(currency_code)};
}

}  // namespace kelola::money
