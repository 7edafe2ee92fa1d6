#include "libs/money/money.h"

#include <cstdint>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::money {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Money Idr(int64_t minor) { return Money{minor, "IDR"}; }
Money Thb(int64_t minor) { return Money{minor, "THB"}; }

void ExpectReason(const absl::Status& status, std::string_view reason) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(errors::Reason(status), reason) << status;
}

TEST(CurrencyTest, TenantCurrenciesHaveTwoMinorUnits) {
  ASSERT_TRUE(LookupCurrency("IDR").ok());
  EXPECT_EQ(LookupCurrency("IDR")->minor_units, 2);
  EXPECT_EQ(LookupCurrency("THB")->minor_units, 2);
  EXPECT_EQ(LookupCurrency("JPY")->minor_units, 0);
}

TEST(CurrencyTest, UnknownOrLowerCaseCodesAreRefused) {
  ExpectReason(LookupCurrency("XYZ").status(), kReasonCurrencyUnsupported);
  ExpectReason(LookupCurrency("idr").status(), kReasonCurrencyUnsupported);
  ExpectReason(LookupCurrency("").status(), kReasonCurrencyUnsupported);
  ExpectReason(Add(Money{1, "XYZ"}, Money{1, "XYZ"}).status(), kReasonCurrencyUnsupported);
  ExpectReason(Multiply(Money{1, "ABC"}, 2).status(), kReasonCurrencyUnsupported);
}

TEST(ArithmeticTest, AddSubtractMultiply) {
  EXPECT_EQ(*Add(Idr(150), Idr(250)), Idr(400));
  EXPECT_EQ(*Subtract(Idr(150), Idr(250)), Idr(-100));
  EXPECT_EQ(*Multiply(Thb(12345), 3), Thb(37035));
  EXPECT_EQ(*Multiply(Thb(12345), -2), Thb(-24690));
  EXPECT_EQ(*Multiply(Thb(12345), 0), Thb(0));
}

TEST(ArithmeticTest, CurrencyMismatch) {
  ExpectReason(Add(Idr(1), Thb(1)).status(), kReasonCurrencyMismatch);
  ExpectReason(Subtract(Thb(1), Idr(1)).status(), kReasonCurrencyMismatch);
  EXPECT_EQ(errors::GetMetadata(Add(Idr(1), Thb(1)).status()).at("right_currency"), "THB");
}

TEST(ArithmeticTest, OverflowAtInt64Limits) {
  ExpectReason(Add(Idr(kMax), Idr(1)).status(), kReasonAmountOverflow);
  ExpectReason(Add(Idr(kMin), Idr(-1)).status(), kReasonAmountOverflow);
  ExpectReason(Subtract(Idr(kMin), Idr(1)).status(), kReasonAmountOverflow);
  ExpectReason(Subtract(Idr(0), Idr(kMin)).status(), kReasonAmountOverflow);
  ExpectReason(Multiply(Idr(kMax), 2).status(), kReasonAmountOverflow);
  ExpectReason(Multiply(Idr(kMin), -1).status(), kReasonAmountOverflow);
  ExpectReason(Multiply(Idr(kMax / 2 + 1), 2).status(), kReasonAmountOverflow);
  // Right at the edge is fine.
  EXPECT_EQ(*Add(Idr(kMax - 1), Idr(1)), Idr(kMax));
  EXPECT_EQ(*Subtract(Idr(kMin + 1), Idr(1)), Idr(kMin));
  EXPECT_EQ(*Multiply(Idr(kMax), 1), Idr(kMax));
  EXPECT_EQ(*Multiply(Idr(kMax), -1), Idr(-kMax));
}

TEST(BasisPointsTest, HalvesRoundAwayFromZero) {
  // 5 * 50% = 2.5 -> 3; -2.5 -> -3.
  EXPECT_EQ(*BasisPointsOf(Thb(5), 5000), Thb(3));
  EXPECT_EQ(*BasisPointsOf(Thb(-5), 5000), Thb(-3));
  // 1 * 50% = 0.5 -> 1.
  EXPECT_EQ(*BasisPointsOf(Thb(1), 5000), Thb(1));
  // Just below and above a half.
  EXPECT_EQ(*BasisPointsOf(Thb(4999), 1), Thb(0));   // 0.4999
  EXPECT_EQ(*BasisPointsOf(Thb(5000), 1), Thb(1));   // 0.5
  EXPECT_EQ(*BasisPointsOf(Thb(5001), 1), Thb(1));   // 0.5001
  EXPECT_EQ(*BasisPointsOf(Thb(15000), 1), Thb(2));  // 1.5
  EXPECT_EQ(*BasisPointsOf(Thb(-15000), 1), Thb(-2));
  EXPECT_EQ(*BasisPointsOf(Thb(14999), 1), Thb(1));
  // 11% VAT on IDR 10.000,00.
  EXPECT_EQ(*BasisPointsOf(Idr(1000000), 1100), Idr(110000));
}

TEST(BasisPointsTest, ExactWithHugeAmounts) {
  // No double rounding: kMax * 9999 / 10000 computed exactly in 128 bits.
  __int128 exact = static_cast<__int128>(kMax) * 9999;
  int64_t expected = static_cast<int64_t>(exact / 10000 + ((exact % 10000) * 2 >= 10000 ? 1 : 0));
  EXPECT_EQ(BasisPointsOf(Idr(kMax), 9999)->amount_minor, expected);
  EXPECT_EQ(*BasisPointsOf(Idr(kMax), 10000), Idr(kMax));
  EXPECT_EQ(*BasisPointsOf(Idr(kMin), 10000), Idr(kMin));
  ExpectReason(BasisPointsOf(Idr(kMax), 10001).status(), kReasonAmountOverflow);
  ExpectReason(BasisPointsOf(Idr(kMin), -10000).status(), kReasonAmountOverflow);
  ExpectReason(BasisPointsOf(Idr(kMax), kMax).status(), kReasonAmountOverflow);
}

TEST(ApplyBasisPointsTest, DiscountIsRoundedThenSubtracted) {
  // 10% off THB 99.95: discount 9.995 -> 10.00 (999.5 minor units -> 1000), price 89.95.
  EXPECT_EQ(*ApplyBasisPoints(Thb(9995), 1000), Thb(8995));
  // 50% off 0.05: discount 0.025 -> 0.03, price 0.02; discount + price == amount.
  EXPECT_EQ(*ApplyBasisPoints(Idr(5), 5000), Idr(2));
  EXPECT_EQ(*ApplyBasisPoints(Idr(-5), 5000), Idr(-2));
  EXPECT_EQ(*ApplyBasisPoints(Idr(150000), 0), Idr(150000));
  EXPECT_EQ(*ApplyBasisPoints(Idr(150000), 10000), Idr(0));
  EXPECT_EQ(*ApplyBasisPoints(Idr(kMax), 1), Idr(kMax - 922337203685478));
  EXPECT_EQ(*ApplyBasisPoints(Idr(kMin), 10000), Idr(0));
  for (int64_t amount : {1, 7, 99, 12345, 99999999}) {
    for (int64_t bps : {1, 250, 333, 5000, 6667, 9999}) {
      Money price = *ApplyBasisPoints(Thb(amount), bps);
      Money discount = *BasisPointsOf(Thb(amount), bps);
      EXPECT_EQ(price.amount_minor + discount.amount_minor, amount);
    }
  }
}

TEST(ApplyBasisPointsTest, OutOfRange) {
  ExpectReason(ApplyBasisPoints(Idr(100), -1).status(), kReasonBasisPointsOutOfRange);
  ExpectReason(ApplyBasisPoints(Idr(100), 10001).status(), kReasonBasisPointsOutOfRange);
  ExpectReason(ApplyBasisPoints(Money{100, "XXX"}, 10).status(), kReasonCurrencyUnsupported);
}

TEST(FormatTest, Rupiah) {
  EXPECT_EQ(*FormatForLocale(Idr(123456700)), "Rp1.234.567");
  EXPECT_EQ(*FormatForLocale(Idr(123456750)), "Rp1.234.567,50");
  EXPECT_EQ(*FormatForLocale(Idr(123456705)), "Rp1.234.567,05");
  EXPECT_EQ(*FormatForLocale(Idr(0)), "Rp0");
  EXPECT_EQ(*FormatForLocale(Idr(5)), "Rp0,05");
  EXPECT_EQ(*FormatForLocale(Idr(100000)), "Rp1.000");
  EXPECT_EQ(*FormatForLocale(Idr(99900)), "Rp999");
  EXPECT_EQ(*FormatForLocale(Idr(-150000)), "-Rp1.500");
  EXPECT_EQ(*FormatForLocale(Idr(-150050)), "-Rp1.500,50");
}

TEST(FormatTest, Baht) {
  EXPECT_EQ(*FormatForLocale(Thb(123450)), "฿1,234.50");
  EXPECT_EQ(*FormatForLocale(Thb(123400)), "฿1,234.00");
  EXPECT_EQ(*FormatForLocale(Thb(0)), "฿0.00");
  EXPECT_EQ(*FormatForLocale(Thb(7)), "฿0.07");
  EXPECT_EQ(*FormatForLocale(Thb(100000000)), "฿1,000,000.00");
  EXPECT_EQ(*FormatForLocale(Thb(-50)), "-฿0.50");
}

TEST(FormatTest, ExtremesAndOtherCurrencies) {
  EXPECT_EQ(*FormatForLocale(Thb(kMax)), "฿92,233,720,368,547,758.07");
  EXPECT_EQ(*FormatForLocale(Thb(kMin)), "-฿92,233,720,368,547,758.08");
  EXPECT_EQ(*FormatForLocale(Idr(kMin)), "-Rp92.233.720.368.547.758,08");
  EXPECT_EQ(*FormatForLocale(Money{123450, "USD"}), "USD 1,234.50");
  EXPECT_EQ(*FormatForLocale(Money{1234, "JPY"}), "JPY 1,234");
  ExpectReason(FormatForLocale(Money{1, "XXX"}).status(), kReasonCurrencyUnsupported);
}

TEST(ParseDecimalTest, ExactMinorUnits) {
  EXPECT_EQ(*ParseDecimal("1234.50", "THB"), Thb(123450));
  EXPECT_EQ(*ParseDecimal("1234.5", "THB"), Thb(123450));
  EXPECT_EQ(*ParseDecimal("1234", "THB"), Thb(123400));
  EXPECT_EQ(*ParseDecimal("0.01", "IDR"), Idr(1));
  EXPECT_EQ(*ParseDecimal("-0.01", "IDR"), Idr(-1));
  EXPECT_EQ(*ParseDecimal("-0", "IDR"), Idr(0));
  EXPECT_EQ(*ParseDecimal("007.10", "IDR"), Idr(710));
  EXPECT_EQ(*ParseDecimal("1500000", "IDR"), Idr(150000000));
  EXPECT_EQ(*ParseDecimal("1234", "JPY"), (Money{1234, "JPY"}));
  // 0.1 + 0.2 is exactly 0.3 here.
  EXPECT_EQ(*Add(*ParseDecimal("0.1", "THB"), *ParseDecimal("0.2", "THB")),
            *ParseDecimal("0.3", "THB"));
}

TEST(ParseDecimalTest, TooManyDecimals) {
  ExpectReason(ParseDecimal("1.234", "THB").status(), kReasonAmountTooPrecise);
  ExpectReason(ParseDecimal("1.230", "THB").status(), kReasonAmountTooPrecise);
  ExpectReason(ParseDecimal("1.5", "JPY").status(), kReasonAmountTooPrecise);
  ExpectReason(ParseDecimal("1.99999999999999999999999", "THB").status(), kReasonAmountTooPrecise);
}

TEST(ParseDecimalTest, Garbage) {
  for (const char* text : {"", "-", ".", ".5", "5.", "1,234.50", "1.234,50", " 12", "12 ", "+12",
                           "1e3", "12a", "--1", "1..2", "1.2.3", "Rp100", "฿100", "0x10", "١٢"}) {
    ExpectReason(ParseDecimal(text, "THB").status(), kReasonAmountInvalid);
  }
  ExpectReason(ParseDecimal("1", "XYZ").status(), kReasonCurrencyUnsupported);
}

TEST(ParseDecimalTest, OverflowAtInt64Limits) {
  EXPECT_EQ(*ParseDecimal("92233720368547758.07", "THB"), Thb(kMax));
  EXPECT_EQ(*ParseDecimal("-92233720368547758.08", "THB"), Thb(kMin));
  EXPECT_EQ(*ParseDecimal("9223372036854775807", "JPY"), (Money{kMax, "JPY"}));
  ExpectReason(ParseDecimal("92233720368547758.08", "THB").status(), kReasonAmountOverflow);
  ExpectReason(ParseDecimal("-92233720368547758.09", "THB").status(), kReasonAmountOverflow);
  EXPECT_EQ(*ParseDecimal("92233720368547758", "THB"), Thb(9223372036854775800));
  ExpectReason(ParseDecimal("92233720368547759", "THB").status(), kReasonAmountOverflow);
  ExpectReason(ParseDecimal("9223372036854775808", "JPY").status(), kReasonAmountOverflow);
  ExpectReason(ParseDecimal("99999999999999999999999999999999999999999999", "IDR").status(),
               kReasonAmountOverflow);
}

TEST(FormatParseTest, RoundTripsThroughPlainDecimal) {
  for (int64_t minor : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{123450}, kMax, kMin}) {
    absl::StatusOr<std::string> formatted = FormatForLocale(Thb(minor));
    ASSERT_TRUE(formatted.ok());
    std::string plain;
    for (char c : *formatted) {
      if ((c >= '0' && c <= '9') || c == '.' || c == '-') plain.push_back(c);
    }
    EXPECT_EQ(*ParseDecimal(plain, "THB"), Thb(minor)) << plain;
  }
}

}  // namespace
}  // namespace kelola::money
