#pragma once

// The signed internal credential (docs/decisions/authentication.md). The gateway signs one
// per forwarded call with the principal it authenticated; a service calling another signs
// one naming itself as caller. Backends verify it (libs/server) and trust nothing else:
// not the tenant header, not a principal header, not the peer address.
//
// Wire form, in request metadata `x-kelola-credential`:
//   k1.<base64url(kelola.auth.v1.InternalCredential)>.<base64url(HMAC-SHA256(key, "k1." payload))>
// Credentials are short-lived (a minute by default), so a leaked one is soon worthless.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/principal.h"
#include "libs/clock/clock.h"

namespace kelola::auth {

inline constexpr char kCredentialHeader[] = "x-kelola-credential";
inline constexpr absl::Duration kCredentialLifetime = absl::Seconds(60);

// What a verified credential says.
struct VerifiedCall {
  std::string caller;  // the signing process: "gateway", "customer-svc", ...
  Principal principal;
};

class CredentialSigner {
 public:
  // `key`: the suite's internal key; `caller`: this process's service name.
  CredentialSigner(std::string key, std::string caller, const Clock& clock,
                   absl::Duration lifetime = kCredentialLifetime);
  std::string Sign(const Principal& principal) const;
  const std::string& caller() const { return caller_; }

 private:
  std::string key_;
  std::string caller_;
  const Clock& clock_;
  absl::Duration lifetime_;
};

class CredentialVerifier {
 public:
  CredentialVerifier(std::string key, const Clock& clock);
  // UNAUTHENTICATED (reason CREDENTIAL_INVALID) for anything malformed, badly signed or
  // naming no tenant for a non-service principal; (reason CREDENTIAL_EXPIRED) when past its
  // expiry. The message says which, never echoing the credential.
  absl::StatusOr<VerifiedCall> Verify(absl::string_view credential) const;

 private:
  std::string key_;
  const Clock& clock_;
};

// A principal for a service acting on its own behalf (event consumers, settings lookups):
// kind kService, id = the service name, role owner, no store limit.
Principal ServicePrincipal(absl::string_view service, absl::string_view tenant_id);

}  // namespace kelola::auth
