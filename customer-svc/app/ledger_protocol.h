#pragma once

// ledger-svc's side of the delete (C4) and merge (C7) protocols, as customer-svc calls it
// (kelola.ledger.v1.LedgerInternalService). An interface so that the saga logic can be
// unit-tested with a scripted ledger; production uses GrpcLedgerProtocol.
//
// Errors come back as ledger-svc sent them (errors::FromGrpcStatus keeps the reason and
// metadata); IsTransient tells a refusal from a failure to get an answer.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/tenant.pb.h"

namespace kelola::customer::app {

// The tenant as ledger-svc needs it: its statistics and events are in the tenant's
// currency and calendar.
struct LedgerTenant {
  std::string tenant_id;
  std::string currency_code;
  std::string time_zone;
};

LedgerTenant LedgerTenantOf(const std::string& tenant_id, const v1::TenantSettings& settings);

// The tenant's ledger settings, read from its directory settings.
absl::StatusOr<LedgerTenant> LoadLedgerTenant(store::DirectoryStore& store,
                                              const std::string& tenant_id);

class LedgerProtocol {
 public:
  virtual ~LedgerProtocol() = default;
  virtual absl::Status Seal(const LedgerTenant& tenant, const std::string& seal_id,
                            const std::string& customer_id) = 0;
  // Whether a seal was removed.
  virtual absl::StatusOr<bool> Unseal(const LedgerTenant& tenant, const std::string& seal_id,
                                      const std::string& customer_id) = 0;
  virtual absl::Status Reassign(const LedgerTenant& tenant, const std::string& operation_id,
                                const std::string& source_customer_id,
                                const std::string& target_customer_id) = 0;
};

// Whether `status` means "no answer" (the ledger may or may not have acted; retry with the
// same operation id) rather than a decision.
bool IsTransient(const absl::Status& status);

}  // namespace kelola::customer::app
