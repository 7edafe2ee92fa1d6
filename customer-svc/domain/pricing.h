#pragma once

// Per-category pricing (C10): which rule prices a unit for a customer. Exact integer
// arithmetic through libs/money.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "libs/money/money.h"

namespace kelola::customer::domain {

enum class PriceRuleKind { kPriceList, kMemberDiscount, kBase };

struct Quote {
  money::Money price;
  PriceRuleKind rule = PriceRuleKind::kBase;
  int64_t discount_bps = 0;  // with kMemberDiscount
};

// `price_list_price`: the category's entry for the SKU, if any. `member_discount_bps`: the
// category's discount (0 = none). Rules, first that applies wins: price list entry, member
// discount (the discount is rounded half away from zero to the minor unit and subtracted, so
// discount + price == base exactly: money::ApplyBasisPoints), base price.
absl::StatusOr<Quote> QuoteUnitPrice(const money::Money& base,
                                     const std::optional<money::Money>& price_list_price,
                                     int64_t member_discount_bps);

}  // namespace kelola::customer::domain
