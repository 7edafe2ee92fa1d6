#pragma once

// What the ledger needs to know from customer-svc: whether a sale may be recorded for a
// customer, and each tenant's currency and time zone. Implemented over gRPC by
// api/grpc_customer_directory.h; tests use fakes.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kelola::ledger {

struct CustomerCheck {
  std::string category_id;  // empty for none; used for category credit limits
  int64_t version = 0;      // the customer record's version the answer is of; 0 = unknown
};

// A tenant's settings as customer-svc keeps them (kelola.customer.v1.TenantSettings).
struct TenantSettings {
  std::string currency_code;  // ISO 4217: "IDR" or "THB"
  std::string time_zone;      // IANA name, e.g. "Asia/Jakarta"
};

// Calls wait for customer-svc at most until `deadline` (the deadline of the call being
// served; implementations may cut it shorter).
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
                                                     absl::string_view customer_id,
                                                     absl::Time deadline) = 0;

  // The tenant's currency and time zone (customer-svc's defaults for a tenant that never
  // stored settings), or UNAVAILABLE CUSTOMER_SERVICE_UNAVAILABLE.
  virtual absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view tenant_id,
                                                           absl::Time deadline) = 0;
};

}  // namespace kelola::ledger
