#pragma once

// How a backend knows who calls it, and how it says who it is when it calls another
// service (docs/decisions/authentication.md). One process-wide setting, installed once by
// InitService():
// - with the suite's internal key (--internal_key_file): every call must carry a valid
//   signed credential (libs/auth/internal_credential.h); the tenant and principal come
//   from it and nowhere else, and outgoing calls are signed with this service's name;
// - without it, only with --trust_tenant_header (local tests): the x-kelola-tenant and
//   x-kelola-principal headers are believed, every caller holds every role, and outgoing
//   calls send those headers. A process with neither refuses to start.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "libs/auth/internal_credential.h"

namespace kelola::server {

class CallAuthentication {
 public:
  // `key` empty = trust headers. `service`: this process's name, the caller of its calls.
  CallAuthentication(std::string key, std::string service, const Clock& clock);

  bool trusts_headers() const { return !verifier_; }
  const std::string& service() const { return service_; }

  // The verified caller and principal of an incoming call (tenant not yet validated).
  absl::StatusOr<auth::VerifiedCall> Authenticate(const grpc::ServerContext& context) const;
  // Adds this service's credential for `principal` (and the tenant header) to a call.
  void Attach(grpc::ClientContext& context, const auth::Principal& principal) const;

 private:
  std::string service_;
  std::unique_ptr<auth::CredentialVerifier> verifier_;
  std::unique_ptr<auth::CredentialSigner> signer_;
};

// The process's setting; before InitService() (unit tests), trusting headers.
const CallAuthentication& ProcessCallAuthentication();
void InstallCallAuthentication(std::unique_ptr<CallAuthentication> authentication);

// Signs an outgoing call as this service, acting for `tenant_id` on its own behalf.
void AttachServiceCredential(grpc::ClientContext& context, absl::string_view tenant_id);

}  // namespace kelola::server
