#include "customer-svc/domain/pricing.h"

namespace kelola::customer::domain {

absl::StatusOr<Quote> QuoteUnitPrice(const money::Money& base,
                                     const std::optional<money::Money>& price_list_price,
                                     int64_t member_discount_bps) {
  Quote quote;
  if (price_list_price.has_value()) {
    quote.price = *price_list_price;
    quote.rule = PriceRuleKind::kPriceList;
    return quote;
  }
  if (member_discount_bps > 0) {
    auto discounted = money::ApplyBasisPoints(base, member_discount_bps);
    if (!discounted.ok()) return discounted.status();
    quote.price = *discounted;
    quote.rule = PriceRuleKind::kMemberDiscount;
    quote.discount_bps = member_discount_bps;
    return quote;
  }
  quote.price = base;
  quote.rule = PriceRuleKind::kBase;
  return quote;
}

}  // namespace kelola::customer::domain
