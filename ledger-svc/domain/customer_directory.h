#pragma once

// What the ledger needs to know from customer-svc before it records a sale for a
// customer. Implemented over gRPC by api/grpc_customer_directory.h; tests use fakes.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::ledger {

struct CustomerCheck {
  std::string category_id;  // empty for none; used for category credit limits
};

class CustomerDirectory {
 public:
  virtual ~CustomerDirectory() = default;

  // OK with the customer's category when a sale may be recorded for it. Otherwise an
  // error carrying a kelola.ledger.v1.ErrorReason name: NOT_FOUND CUSTOMER_NOT_FOUND,
  // FAILED_PRECONDITION CUSTOMER_ARCHIVED / CUSTOMER_MERGED (metadata
  // merged_into_customer_id) / CUSTOMER_SEALED, or UNAVAILABLE
  // CUSTOMER_SERVICE_UNAVAILABLE when customer-svc cannot answer. Never OK unless
  // customer-svc said the customer may buy.
  virtual absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view tenant_id,
                                                     absl::string_view customer_id) = 0;
};

}  // namespace kelola::ledger
