#pragma once

// Admission of every call the gateway serves, forwarded or its own (G4, G5), in order:
// authenticate the credential (and the tenant the caller may name), apply the role policy
// of the method (libs/auth/access_policy.h), take one request from the tenant's rate
// limit. The first refusal is the answer.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/auth/authenticator.h"
#include "grpcpp/server_context.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

class Gatekeeper {
 public:
  // OK, or RESOURCE_EXHAUSTED (RATE_LIMITED, metadata retry_after_ms) for the tenant.
  using RateCheck = std::function<absl::Status(const std::string& tenant_id)>;

  Gatekeeper(Authenticator& authenticator, RateCheck rate_check)
      : authenticator_(authenticator), rate_check_(std::move(rate_check)) {}

  // `method`: "/package.Service/Method".
  absl::StatusOr<std::shared_ptr<const auth::Principal>> Admit(
      const grpc::ServerContextBase& context, absl::string_view method);

 private:
  Authenticator& authenticator_;
  RateCheck rate_check_;
};

}  // namespace kelola::gateway
