#include "ledger-svc/api/request_support.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/auth/access_policy.h"
#include "libs/request_id/request_id.h"
#include "libs/server/request_context.h"

namespace kelola::ledger::api {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  // The database's own errors carry no reason; the contract names them.
  const std::string reason = errors::Reason(status);
  if (status.code() == absl::StatusCode::kUnavailable && reason == "UNAVAILABLE") {
    return errors::ToGrpcStatus(errors::Error(status.code(), "STORE_UNAVAILABLE", status.message()),
                                kErrorDomain);
  }
  if (status.code() == absl::StatusCode::kAborted && reason == "ABORTED") {
    return errors::ToGrpcStatus(
        errors::Error(status.code(), "CONCURRENT_MODIFICATION", status.message()), kErrorDomain);
  }
  return errors::ToGrpcStatus(status, kErrorDomain);
}

absl::StatusOr<LedgerContext> ReadLedgerContext(const grpc::ServerContext& context) {
  auto rc = server::ReadRequestContext(context);
  if (!rc.ok()) return rc.status();
  LedgerContext ctx;
  ctx.tenant_id = rc->tenant_id;
  ctx.principal = rc->principal;
  ctx.stores = rc->identity.stores;
  return ctx;
}

absl::Status RequireStore(const LedgerContext& ctx, absl::string_view store_id) {
  // The suite's one rule and error (libs/auth), for the stores the context carries.
  auth::Principal principal;
  principal.stores = ctx.stores;
  return auth::RequireStore(principal, store_id);
}

absl::Time CallDeadline(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

bool IsValidEntityId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

void CheckRequestId(errors::FieldErrors& fields, const std::string& id, const std::string& field) {
  request_id::Check(fields, id, request_id::Presence::kRequired, field);
}

bool IsValidRequestId(const std::string& id) {
  return request_id::Problem(id, request_id::Presence::kRequired).empty();
}

void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& id,
             bool required) {
  if (id.empty()) {
    if (required) fields.Add(field, "required");
    return;
  }
  if (!IsValidEntityId(id)) fields.Add(field, "must be 1-64 characters of [A-Za-z0-9_-]");
}

size_t CharacterCount(absl::string_view text) {
  size_t count = 0;
  for (const char c : text) {
    // Every code point has exactly one byte that is not a continuation byte (10xxxxxx).
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

void CheckLength(errors::FieldErrors& fields, const std::string& field, const std::string& text,
                 size_t max, bool required) {
  if (required && text.empty()) {
    fields.Add(field, "required");
  } else if (text.size() > max && CharacterCount(text) > max) {
    fields.Add(field, absl::StrCat("at most ", max, " characters"));
  }
}

}  // namespace kelola::ledger::api
