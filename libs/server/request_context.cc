#include "libs/server/request_context.h"

#include "libs/errors/errors.h"
#include "libs/request_id/request_id.h"
#include "libs/server/request_text.h"

namespace kelola::server {
namespace {

std::string Header(const grpc::ServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

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

absl::StatusOr<RequestContext> ReadRequestContext(const grpc::ServerContext& context) {
  // A request the interceptor found unfit (a NUL character in a string field) is refused
  // before the handler does anything with it.
  if (absl::Status fit = RequestTextProblem(context); !fit.ok()) return fit;
  RequestContext out;
  out.tenant_id = Header(context, kTenantHeader);
  out.principal = Header(context, kPrincipalHeader);
  out.request_id = Header(context, kRequestIdHeader);
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

}  // namespace kelola::server
