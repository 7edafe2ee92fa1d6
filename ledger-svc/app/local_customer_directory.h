#pragma once

// CheckForSale without a call to customer-svc per sale: answered from the ledger's projection
// of customer-svc's directory (store/directory_projection.h), which customer-svc's event
// stream keeps current. A customer the projection does not hold yet (created a moment ago,
// before its event arrived) is asked of customer-svc once, and the answer remembered.
//
// The projection may lag the directory by the stream's delay (milliseconds): a customer
// archived a moment ago may still buy once. Deletion and merging stay race-free regardless:
// the ledger refuses entries for a sealed or merged customer inside the write transaction
// (docs/decisions/ledger-customer-projection.md).

#include "ledger-svc/domain/customer_directory.h"
#include "ledger-svc/store/directory_projection.h"

namespace kelola::ledger {

class LocalCustomerDirectory final : public CustomerDirectory {
 public:
  // `remote` answers what the projection cannot (customer-svc over gRPC in production).
  LocalCustomerDirectory(DirectoryProjection& projection, CustomerDirectory& remote)
      : projection_(projection), remote_(remote) {}

  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view tenant_id,
                                             absl::string_view customer_id,
                                             absl::Time deadline) override;
  absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view tenant_id,
                                                   absl::Time deadline) override {
    return remote_.GetTenantSettings(tenant_id, deadline);
  }

 private:
  DirectoryProjection& projection_;
  CustomerDirectory& remote_;
};

}  // namespace kelola::ledger
