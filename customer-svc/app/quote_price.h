#pragma once

// The price of one item for a customer (C10): the customer's category's price list entry
// for the SKU, else the category's member discount on the base price, else the base price.
// A merged customer is priced as the customer it was merged into.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::app {

struct PriceQuestion {
  std::string sku;          // 1-100 characters
  int64_t base_minor = 0;   // not negative
  std::string currency;     // must be the tenant's
  std::string customer_id;  // empty: no customer, the base price
};

// Errors: INVALID_ARGUMENT CURRENCY_MISMATCH, NOT_FOUND CUSTOMER_NOT_FOUND.
absl::Status QuotePrice(store::DirectoryStore& store, absl::string_view tenant,
                        const PriceQuestion& question, v1::QuotePriceResponse& response);

}  // namespace kelola::customer::app
