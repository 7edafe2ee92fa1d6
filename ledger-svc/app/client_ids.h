#pragma once

// Entries whose id the client may choose (sale_id, payment_id).

#include <string>

#include "absl/status/statusor.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {

// `result` of a write, except that when a concurrent write with the same client-chosen
// `client_id` won the primary key (the store's ALREADY_EXISTS), `taken(client_id)`. The
// error is built only then: building it on every write was about 1 % of ledger-svc's CPU
// in a sale's profile (docs/benchmarks.md, 2026-12-06).
template <typename Response>
absl::StatusOr<Response> ClientIdTaken(absl::StatusOr<Response> result,
                                       const std::string& client_id,
                                       absl::Status (*taken)(const std::string&)) {
  if (!result.ok() && result.status().code() == absl::StatusCode::kAlreadyExists &&
      errors::Reason(result.status()) == "ALREADY_EXISTS" && !client_id.empty()) {
    return taken(client_id);
  }
  return result;
}

}  // namespace kelola::ledger
