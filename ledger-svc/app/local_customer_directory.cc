#include "ledger-svc/app/local_customer_directory.h"

#include <string>

#include "ledger-svc/domain/sale_eligibility.h"
#include "libs/log/log.h"

namespace kelola::ledger {

absl::StatusOr<CustomerCheck> LocalCustomerDirectory::CheckForSale(absl::string_view tenant_id,
                                                                   absl::string_view customer_id,
                                                                   absl::Time deadline) {
  const std::string tenant(tenant_id);
  const std::string customer(customer_id);
  auto known = projection_.Find(tenant, customer);
  if (known.ok() && known->has_value()) return SaleEligibility(**known);
  // Not projected yet, or the projection cannot be read: customer-svc decides.
  auto answer = remote_.CheckForSale(tenant_id, customer_id, deadline);
  if (!answer.ok() || answer->version <= 0) return answer;
  customer_stream::CustomerRow row;
  row.customer_id = customer;
  row.version = answer->version;
  row.category_id = answer->category_id;
  row.state = customer_stream::CustomerState::kActive;
  if (absl::Status s = projection_.Remember(tenant, row); !s.ok()) {
    // The sale goes on with customer-svc's answer; the next one asks again.
    log::Warn("directory projection not updated", {{"error", s.ToString()}});
  }
  return answer;
}

}  // namespace kelola::ledger
