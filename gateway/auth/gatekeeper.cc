#include "gateway/auth/gatekeeper.h"

#include "libs/auth/access_policy.h"

namespace kelola::gateway {

absl::StatusOr<std::shared_ptr<const auth::Principal>> Gatekeeper::Admit(
    const grpc::ServerContextBase& context, absl::string_view method) {
  auto principal = authenticator_.Authenticate(context.client_metadata());
  if (!principal.ok()) return principal;
  if (absl::Status allowed = auth::Authorize(**principal, method); !allowed.ok()) return allowed;
  if (rate_check_) {
    if (absl::Status admitted = rate_check_((*principal)->tenant_id); !admitted.ok()) {
      return admitted;
    }
  }
  return principal;
}

}  // namespace kelola::gateway
