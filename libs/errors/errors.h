#pragma once

// Errors inside the services are absl::Status values that carry a machine-readable
// reason, structured metadata and the offending fields as payloads. They become
// grpc::Status in exactly one place, ToGrpcStatus(), which writes the standard
// google.rpc.Status (ErrorInfo + BadRequest) into `grpc-status-details-bin`.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace kelola::errors {

struct FieldViolation {
  std::string field;        // request path, e.g. "customer.phone"
  std::string description;  // why the value is refused
  bool operator==(const FieldViolation& o) const {
    return field == o.field && description == o.description;
  }
};

using Metadata = std::map<std::string, std::string>;

// An error with a reason (UPPER_SNAKE_CASE) and optional metadata and field violations.
absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                   const Metadata& metadata = {}, const std::vector<FieldViolation>& fields = {});

// The reason of an error built by Error(); for other errors the canonical code name
// (e.g. "UNAVAILABLE").
std::string Reason(const absl::Status& status);
Metadata GetMetadata(const absl::Status& status);
std::vector<FieldViolation> Violations(const absl::Status& status);

// Collects every invalid field of a request before refusing it, so that the client
// learns about all of them at once.
class FieldErrors {
 public:
  void Add(std::string field, std::string description);
  // Adds the violations of a status returned by a validator, prefixing each field with
  // `prefix.`; a status without violations is recorded against `prefix` itself.
  void Merge(absl::string_view prefix, const absl::Status& status);
  bool empty() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }
  // OK when empty, else INVALID_ARGUMENT with `reason` and every violation.
  absl::Status ToStatus(absl::string_view reason = "INVALID_ARGUMENT") const;

 private:
  std::vector<FieldViolation> violations_;
};

// The single absl -> gRPC conversion. `domain` names the service that owns the reasons
// (e.g. "customer.kelola.id"). INTERNAL and UNKNOWN messages are replaced by a generic
// text so that no database or stack detail leaks to clients.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain);

// The reverse, for services calling services: keeps code, message, reason, metadata
// and field violations.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace kelola::errors
