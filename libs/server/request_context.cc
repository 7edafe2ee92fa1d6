#include "libs/server/request_context.h"

#include "absl/strings/str_cat.h"
#include "libs/auth/access_policy.h"
#include "libs/errors/errors.h"
#include "libs/request_id/request_id.h"
#include "libs/server/call_credentials.h"
#include "libs/server/request_text.h"

namespace kelola::server {
namespace {

bool ValidTenant(const std::string& tenant) {
  if (tenant.empty() || tenant.size() > 64) return false;
  for (char c : tenant) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string MetadataValue(const grpc::ServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContext& context) {
  // A request the interceptor found unfit (a NUL character in a string field) is refused
  // before the handler does anything with it.
  if (absl::Status fit = RequestTextProblem(context); !fit.ok()) return fit;
  auto call = ProcessCallAuthentication().Authenticate(context);
  if (!call.ok()) return call.status();
  RequestContext out;
  out.tenant_id = call->principal.tenant_id;
  out.principal = call->principal.id;
  out.request_id = MetadataValue(context, kRequestIdHeader);
  out.caller = std::move(call->caller);
  out.identity = std::move(call->principal);
  if (out.tenant_id.empty()) {
    return errors::Error(absl::StatusCode::kUnauthenticated, "TENANT_MISSING",
                         "no tenant: the x-kelola-tenant header is required");
  }
  if (!ValidTenant(out.tenant_id)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "TENANT_INVALID",
                         "x-kelola-tenant must be 1-64 characters of [A-Za-z0-9._-]", {},
                         {{"x-kelola-tenant", "1-64 characters of [A-Za-z0-9._-]"}});
  }
  if (absl::Status id =
          request_id::Validate(out.request_id, request_id::Presence::kOptional, kRequestIdHeader);
      !id.ok()) {
    return id;
  }
  return out;
}

absl::Status Authorize(const grpc::ServerContext& context, absl::string_view method) {
  auto call = ProcessCallAuthentication().Authenticate(context);
  if (!call.ok()) return call.status();
  return auth::Authorize(call->principal, method);
}

absl::Status RequireCaller(const RequestContext& context, absl::string_view service) {
  if (ProcessCallAuthentication().trusts_headers() || context.caller == service) {
    return absl::OkStatus();
  }
  return errors::Error(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                       absl::StrCat("only ", service, " may call this internal service"),
                       {{"required_role", std::string(service)}});
}

}  // namespace kelola::server
