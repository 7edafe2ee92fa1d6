#pragma once

// Who is calling and for which tenant, read from request metadata. The gateway
// authenticates callers and sets these headers; internal services read them here only.
//   x-kelola-tenant     tenant id (required)
//   x-kelola-principal  who acts (user or API key id), recorded in audit fields and events
//   x-request-id        correlation id for logs and audit fields (libs/request_id's rule)

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace kelola::server {

inline constexpr char kTenantHeader[] = "x-kelola-tenant";
inline constexpr char kPrincipalHeader[] = "x-kelola-principal";
inline constexpr char kRequestIdHeader[] = "x-request-id";

struct RequestContext {
  std::string tenant_id;
  std::string principal;   // empty when not given
  std::string request_id;  // empty when not given
};

// UNAUTHENTICATED (reason TENANT_MISSING) when the tenant header is absent or empty,
// INVALID_ARGUMENT (reason TENANT_INVALID) when it is not 1-64 characters of
// [A-Za-z0-9._-]; INVALID_ARGUMENT (reason INVALID_ARGUMENT) naming x-request-id when it is
// given but not 1-100 visible ASCII characters.
absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContext& context);

}  // namespace kelola::server
