#pragma once

// What every ledger-svc handler does with a request before and after the store: read the
// tenant context from the metadata, check ids, and turn the store's result into the
// response or the call's status (errors::ToGrpcStatus with the ledger's error domain).

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {

inline constexpr char kCurrencyHeader[] = "x-kelola-currency";
inline constexpr char kTimeZoneHeader[] = "x-kelola-time-zone";
inline constexpr char kErrorDomain[] = "ledger.kelola.id";

namespace api {

grpc::Status ToGrpc(const absl::Status& status);

// The store's answer as the call's response, or its error as the call's status.
template <typename Response>
grpc::Status Respond(absl::StatusOr<Response> out, Response* response) {
  if (!out.ok()) return ToGrpc(out.status());
  *response = *std::move(out);
  return grpc::Status::OK;
}

// Tenant, principal, currency and time zone of the call (see ledger_service.h).
absl::StatusOr<LedgerContext> ReadLedgerContext(const grpc::ServerContext& context);

// 1–64 characters of [A-Za-z0-9_-].
bool IsValidEntityId(const std::string& id);

// request_id (and the other operation ids): required, libs/request_id's rule (1–100
// visible ASCII characters).
void CheckRequestId(errors::FieldErrors& fields, const std::string& id,
                    const std::string& field = "request_id");
bool IsValidRequestId(const std::string& id);

void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& id,
             bool required);

void CheckLength(errors::FieldErrors& fields, const std::string& field, const std::string& text,
                 size_t max, bool required = false);

}  // namespace api
}  // namespace kelola::ledger
