#pragma once

// Whether a sale or a payment may be recorded for a customer, decided from what the ledger's
// projection of customer-svc's directory holds about it (pure functions: no database, no
// clock).

#include "absl/status/status.h"
#include "libs/customer_stream/customer_reducer.h"

namespace kelola::ledger {

// OK for an active customer; otherwise the refusal CheckForSale gives (CustomerDirectory):
// FAILED_PRECONDITION CUSTOMER_ARCHIVED (archived or erased) or CUSTOMER_MERGED (metadata
// merged_into_customer_id), NOT_FOUND CUSTOMER_NOT_FOUND (deleted).
absl::Status SaleEligibility(const customer_stream::CustomerRow& row);

// OK for an active, archived or erased customer (archived customers may still pay what they
// owe); otherwise SaleEligibility's refusal: CUSTOMER_MERGED or CUSTOMER_NOT_FOUND.
absl::Status PaymentEligibility(const customer_stream::CustomerRow& row);

}  // namespace kelola::ledger
