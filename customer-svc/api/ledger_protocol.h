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

namespace kelola::customer::api {

class LedgerProtocol {
 public:
  virtual ~LedgerProtocol() = default;
  virtual absl::Status Seal(const std::string& tenant_id, const std::string& seal_id,
                            const std::string& customer_id) = 0;
  // Whether a seal was removed.
  virtual absl::StatusOr<bool> Unseal(const std::string& tenant_id, const std::string& seal_id,
                                      const std::string& customer_id) = 0;
  virtual absl::Status Reassign(const std::string& tenant_id, const std::string& operation_id,
                                const std::string& source_customer_id,
                                const std::string& target_customer_id) = 0;
};

// Whether `status` means "no answer" (the ledger may or may not have acted; retry with the
// same operation id) rather than a decision.
bool IsTransient(const absl::Status& status);

}  // namespace kelola::customer::api
