#pragma once

// Who is calling and for which tenant, read from request metadata. The gateway
// authenticates callers and signs an internal credential with the principal
// (libs/server/call_credentials.h); services read it here only.
//   x-kelola-credential the signed internal credential (required with an internal key)
//   x-kelola-tenant     tenant id (must equal the credential's; alone, only when the
//                       process trusts headers: local tests)
//   x-kelola-principal  who acts, when headers are trusted (else the credential says)
//   x-request-id        correlation id for logs and audit fields (libs/request_id's rule)

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "libs/auth/principal.h"

namespace kelola::server {

inline constexpr char kTenantHeader[] = "x-kelola-tenant";
inline constexpr char kPrincipalHeader[] = "x-kelola-principal";
inline constexpr char kRequestIdHeader[] = "x-request-id";

struct RequestContext {
  std::string tenant_id;
  std::string principal;     // the principal's id, for audit fields; empty when not given
  std::string request_id;    // empty when not given
  std::string caller;        // the signing service ("gateway", ...); "" when headers are trusted
  auth::Principal identity;  // roles and stores of the principal
};

// The value of request metadata `key` ("" when absent).
std::string MetadataValue(const grpc::ServerContext& context, const char* key);

// UNAUTHENTICATED (reason UNAUTHENTICATED, CREDENTIAL_INVALID or CREDENTIAL_EXPIRED) when
// the internal credential is required and missing or bad, PERMISSION_DENIED
// (TENANT_MISMATCH) when x-kelola-tenant contradicts it;
// UNAUTHENTICATED (reason TENANT_MISSING) when there is no tenant,
// INVALID_ARGUMENT (reason TENANT_INVALID) when it is not 1-64 characters of
// [A-Za-z0-9._-]; INVALID_ARGUMENT (reason INVALID_ARGUMENT) naming x-request-id when it is
// given but not 1-100 visible ASCII characters.
absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContext& context);

// The backends' re-check of the access policy (libs/auth/access_policy.h) for `method`
// ("/package.Service/Method"), which the gateway enforces first: the errors of
// ReadRequestContext, or PERMISSION_DENIED when the principal's roles do not allow it.
// Handlers of restricted RPCs call it first.
absl::Status Authorize(const grpc::ServerContext& context, absl::string_view method);

// PERMISSION_DENIED (PERMISSION_DENIED, metadata required_role = the caller) unless the
// call was signed by `service`; with trusted headers, any caller passes.
absl::Status RequireCaller(const RequestContext& context, absl::string_view service);

}  // namespace kelola::server
