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

// What an error may echo back to the client. Errors often quote the input (an id, a
// filter, a phone number); quoted whole, a huge input would push the status past the
// client's header limit (8 KiB by default) and the client would see RESOURCE_EXHAUSTED
// instead of the error. ToGrpcStatus() keeps the message, every field path, description
// and metadata value within these bounds, lists at most kMaxViolations field violations
// (the rest are counted in the ErrorInfo metadata key "omitted_field_violations"), so that
// the message plus grpc-status-details-bin stay under about 4 KiB.
inline constexpr size_t kMaxMessageBytes = 300;
inline constexpr size_t kMaxFieldBytes = 100;
inline constexpr size_t kMaxDescriptionBytes = 160;
inline constexpr size_t kMaxViolations = 20;
inline constexpr size_t kMaxViolationsBytes = 1000;  // all listed violations together
inline constexpr size_t kMaxMetadataKeyBytes = 40;
inline constexpr size_t kMaxMetadataValueBytes = 128;
inline constexpr size_t kMaxMetadataBytes = 600;  // all metadata values together
inline constexpr char kOmittedViolationsKey[] = "omitted_field_violations";

// `text` as valid UTF-8 of at most `max_bytes` bytes: every byte that does not belong to a
// well-formed sequence becomes U+FFFD, and a longer text is cut on a code-point boundary
// and ends with "…" (U+2026). Strict clients (Python, Node, Go) refuse a status whose
// strings are not valid UTF-8.
std::string ClipUtf8(absl::string_view text, size_t max_bytes);

// The single absl -> gRPC conversion. `domain` names the service that owns the reasons
// (e.g. "customer.kelola.id"). INTERNAL and UNKNOWN messages are replaced by a generic
// text so that no database or stack detail leaks to clients. Everything echoed is bounded
// and made valid UTF-8 (see above).
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain);

// The reverse, for services calling services: keeps code, message, reason, metadata
// and field violations.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace kelola::errors
