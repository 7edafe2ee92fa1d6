#include "libs/server/call_credentials.h"

#include <atomic>
#include <utility>

#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::server {
namespace {

// Read on every call, installed once at start (a few times in tests): an atomic pointer,
// and a replaced setting is kept alive, since calls in flight may still use it.
std::atomic<const CallAuthentication*> installed{nullptr};

}  // namespace

CallAuthentication::CallAuthentication(std::string key, std::string service, const Clock& clock)
    : service_(std::move(service)) {
  if (key.empty()) return;
  verifier_ = std::make_unique<auth::CredentialVerifier>(key, clock);
  signer_ = std::make_unique<auth::CredentialSigner>(std::move(key), service_, clock);
}

absl::StatusOr<auth::VerifiedCall> CallAuthentication::Authenticate(
    const grpc::ServerContext& context) const {
  const std::string tenant = MetadataValue(context, kTenantHeader);
  if (!verifier_) {
    auth::VerifiedCall call;
    call.principal.id = MetadataValue(context, kPrincipalHeader);
    call.principal.tenant_id = tenant;
    call.principal.roles = {auth::Role::kOwner, auth::Role::kManager, auth::Role::kCashier,
                            auth::Role::kPlatformAdmin};
    return call;
  }
  const std::string credential = MetadataValue(context, auth::kCredentialHeader);
  if (credential.empty()) {
    return errors::Error(absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED",
                         "no internal credential: call this service through the gateway");
  }
  auto call = verifier_->Verify(credential);
  if (!call.ok()) return call.status();
  // The header may repeat the tenant (the gateway sends both) but never change it.
  if (!tenant.empty() && tenant != call->principal.tenant_id) {
    return errors::Error(absl::StatusCode::kPermissionDenied, "TENANT_MISMATCH",
                         "x-kelola-tenant differs from the tenant of the credential");
  }
  return call;
}

void CallAuthentication::Attach(grpc::ClientContext& context,
                                const auth::Principal& principal) const {
  if (!principal.tenant_id.empty()) context.AddMetadata(kTenantHeader, principal.tenant_id);
  if (signer_) {
    context.AddMetadata(auth::kCredentialHeader, signer_->Sign(principal));
  } else if (!principal.id.empty()) {
    context.AddMetadata(kPrincipalHeader, principal.id);
  }
}

const CallAuthentication& ProcessCallAuthentication() {
  if (const CallAuthentication* current = installed.load(std::memory_order_acquire)) {
    return *current;
  }
  static const CallAuthentication* trusting = new CallAuthentication("", "", RealClock::Get());
  return *trusting;
}

void InstallCallAuthentication(std::unique_ptr<CallAuthentication> authentication) {
  installed.store(authentication.release(), std::memory_order_release);
}

void AttachServiceCredential(grpc::ClientContext& context, absl::string_view tenant_id) {
  const CallAuthentication& authentication = ProcessCallAuthentication();
  authentication.Attach(context, auth::ServicePrincipal(authentication.service(), tenant_id));
}

}  // namespace kelola::server
