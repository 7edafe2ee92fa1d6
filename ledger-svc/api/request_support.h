#pragma once

// What every ledger-svc handler does with a request before and after the store: read the
// tenant context from the metadata, check ids, and turn the store's result into the
// response or the call's status (errors::ToGrpcStatus with the ledger's error domain).

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {

inline constexpr char kErrorDomain[] = "ledger.kelola.id";

namespace api {

// The call's status for `status`. Errors without a reason (from the database) get the
// contract's: UNAVAILABLE STORE_UNAVAILABLE, ABORTED CONCURRENT_MODIFICATION.
grpc::Status ToGrpc(const absl::Status& status);

// The store's answer as the call's response, or its error as the call's status.
template <typename Response>
grpc::Status Respond(absl::StatusOr<Response> out, Response* response) {
  if (!out.ok()) return ToGrpc(out.status());
  *response = *std::move(out);
  return grpc::Status::OK;
}

// Tenant and principal of the call, from the metadata the gateway sets. Currency and time
// zone are left to TenantSettingsCache::Resolve: they are never taken from the caller.
absl::StatusOr<LedgerContext> ReadLedgerContext(const grpc::ServerContext& context);

// OK when the principal may act for `store_id` (it has no store limit, or the store is one
// of its stores); else PERMISSION_DENIED STORE_NOT_ALLOWED (metadata store_id). An empty
// `store_id` is no store, so a principal with a store limit may not use it.
absl::Status RequireStore(const LedgerContext& ctx, absl::string_view store_id);

// The deadline of the call being served (absl::InfiniteFuture() when it has none), for
// the calls the ledger makes to customer-svc on its behalf.
absl::Time CallDeadline(const grpc::ServerContext& context);

// 1–64 characters of [A-Za-z0-9_-].
bool IsValidEntityId(const std::string& id);

// request_id (and the other operation ids): required, libs/request_id's rule (1–100
// visible ASCII characters).
void CheckRequestId(errors::FieldErrors& fields, const std::string& id,
                    const std::string& field = "request_id");
bool IsValidRequestId(const std::string& id);

void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& id,
             bool required);

// Unicode code points of UTF-8 `text` (proto3 strings are valid UTF-8): "ก" is one
// character although it takes three bytes.
size_t CharacterCount(absl::string_view text);

// At most `max` characters (code points, not bytes), as the contract counts them; with
// `required`, at least one.
void CheckLength(errors::FieldErrors& fields, const std::string& field, const std::string& text,
                 size_t max, bool required = false);

}  // namespace api
}  // namespace kelola::ledger
