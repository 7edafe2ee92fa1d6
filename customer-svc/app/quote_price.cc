#include "customer-svc/app/quote_price.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/domain/pricing.h"
#include "customer-svc/store/category_records.h"
#include "libs/errors/errors.h"
#include "libs/money/money.h"

namespace kelola::customer::app {

absl::Status QuotePrice(store::DirectoryStore& store, absl::string_view tenant,
                        const PriceQuestion& question, v1::QuotePriceResponse& response) {
  absl::Status status = store.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    const std::string& currency = settings->settings.currency_code();
    if (question.currency != currency) {
      return errors::Error(absl::StatusCode::kInvalidArgument, "CURRENCY_MISMATCH",
                           absl::StrCat("prices of this tenant are in ", currency),
                           {{"expected_currency", currency}},
                           {{"base_price.currency_code", absl::StrCat("must be ", currency)}});
    }
    const money::Money base{question.base_minor, currency};
    std::string category_id;
    if (!question.customer_id.empty()) {
      auto customer = MustFind(tx, CanonicalId(question.customer_id));
      if (!customer.ok()) return customer.status();
      if (customer->customer.state() == v1::CUSTOMER_STATE_MERGED &&
          !customer->customer.merged_into_customer_id().empty()) {
        auto survivor = MustFind(tx, customer->customer.merged_into_customer_id());
        if (!survivor.ok()) return survivor.status();
        customer = std::move(survivor);
      }
      category_id = customer->customer.category_id();
    }
    std::optional<money::Money> list_price;
    int64_t discount = 0;
    if (!category_id.empty()) {
      store::CategoryRecords categories(tx);
      auto category = categories.FindCategory(category_id);
      if (!category.ok()) return category.status();
      if (!category->has_value()) {
        category_id.clear();  // deleted meanwhile: no rule
      } else {
        discount = (*category)->category.member_discount_basis_points();
        auto entry = categories.FindPriceEntry(category_id, question.sku);
        if (!entry.ok()) return entry.status();
        if (entry->has_value()) {
          list_price = money::Money{(*entry)->price().amount_minor(), currency};
        }
      }
    }
    auto quote = domain::QuoteUnitPrice(base, list_price, discount);
    if (!quote.ok()) return quote.status();
    response.mutable_price()->set_amount_minor(quote->price.amount_minor);
    response.mutable_price()->set_currency_code(quote->price.currency_code);
    switch (quote->rule) {
      case domain::PriceRuleKind::kPriceList:
        response.set_rule(v1::PRICE_RULE_PRICE_LIST);
        break;
      case domain::PriceRuleKind::kMemberDiscount:
        response.set_rule(v1::PRICE_RULE_MEMBER_DISCOUNT);
        response.set_discount_basis_points(static_cast<int32_t>(quote->discount_bps));
        break;
      case domain::PriceRuleKind::kBase:
        response.set_rule(v1::PRICE_RULE_BASE);
        break;
    }
    response.set_category_id(category_id);
    response.mutable_base_price()->set_amount_minor(question.base_minor);
    response.mutable_base_price()->set_currency_code(question.currency);
    return absl::OkStatus();
  });
  return status;
}

}  // namespace kelola::customer::app
