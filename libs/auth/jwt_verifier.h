#pragma once

// Verifies the JWTs users present to the gateway (compact JWS, RFC 7515 / 7519) against a
// JWKS, and turns their claims into a Principal. OpenSSL's EVP interface checks the
// signatures; see docs/decisions/jwt-verification.md for what is refused and why.
//
// Order of checks, each failure UNAUTHENTICATED:
//   1. shape: at most kMaxJwtBytes, three base64url segments (no padding), header a JSON
//      object with "alg" RS256 or ES256 and no "crit"; every other alg ("none", HS256, ...)
//      is refused here, before any key is looked at;
//   2. key: the kid selects the key of that alg; without a kid every key of the alg is
//      tried; an unknown kid or a kid of a key of the other type is refused;
//   3. signature: EVP_DigestVerify with SHA-256 (RS256: PKCS#1 v1.5; ES256: exactly 64
//      bytes r||s);
//   4. claims, only once the signature holds: iss, aud (a string or an array holding the
//      audience), exp (required; TOKEN_EXPIRED once now >= exp + leeway), nbf (optional;
//      now >= nbf - leeway), then the principal's claims below. iat is ignored.
// Reasons: TOKEN_EXPIRED for exp, TOKEN_INVALID for everything else. Messages say what is
// wrong but never quote the token.
//
// Claims of the principal (kind kUser):
//   sub     required string of 1-200 bytes           -> id
//   name    optional string                          -> display_name
//   tenant  required, 1-64 of [A-Za-z0-9._-]          -> tenant_id
//   roles   required non-empty array of role names   -> roles (an unknown name is refused)
//   stores  optional non-empty array of store ids    -> stores (absent: every store)
//   exp                                              -> expire_time

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/auth/jwks.h"
#include "libs/auth/principal.h"

namespace kelola::auth {

inline constexpr char kReasonTokenInvalid[] = "TOKEN_INVALID";
inline constexpr char kReasonTokenExpired[] = "TOKEN_EXPIRED";
inline constexpr size_t kMaxJwtBytes = 16 * 1024;

struct JwtSettings {
  std::string issuer;                         // the "iss" every token must carry
  std::string audience;                       // the "aud" every token must carry (or list)
  absl::Duration leeway = absl::Seconds(60);  // clock skew allowed on exp and nbf
};

// Thread-safe: Verify only reads the key set, which is never changed once parsed; to take
// a new key file, build a new verifier.
class JwtVerifier {
 public:
  // `keys` must not be null.
  JwtVerifier(std::shared_ptr<const Jwks> keys, JwtSettings settings);

  // The principal of `token` at `now`, or UNAUTHENTICATED TOKEN_INVALID / TOKEN_EXPIRED.
  absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now) const;

 private:
  std::shared_ptr<const Jwks> keys_;
  JwtSettings settings_;
};

}  // namespace kelola::auth
