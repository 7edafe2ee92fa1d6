#pragma once

// The public keys that may sign the JWTs the gateway accepts, read from a JWKS document
// (RFC 7517) such as an identity provider publishes. Only two kinds of key are kept:
//   kty "RSA", alg "RS256" or absent, modulus of 2048 to 8192 bits;
//   kty "EC", crv "P-256", alg "ES256" or absent.
// A key of another kty, crv or alg, with "use" other than "sig", or with "key_ops" that do
// not include "verify" is skipped (and counted), so that a provider's document that also
// lists encryption keys still loads. A key of a kept kind that is broken (bad base64url,
// wrong coordinate length, a point off the curve, an RSA modulus under 2048 bits, two keys
// with the same kid) refuses the whole document: it is a configuration error to fix, not a
// key to ignore quietly. See docs/decisions/jwt-verification.md.

#include <openssl/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::auth {

inline constexpr char kReasonJwksInvalid[] = "JWKS_INVALID";
inline constexpr char kReasonJwksNotFound[] = "JWKS_NOT_FOUND";
inline constexpr char kAlgRs256[] = "RS256";
inline constexpr char kAlgEs256[] = "ES256";
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;
inline constexpr size_t kMaxJwksFileBytes = 1 << 20;

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// One public key of the set.
struct JwkKey {
  std::string kid;  // "" when the JWK has none
  std::string alg;  // kAlgRs256 or kAlgEs256: the only algorithm the key verifies
  EvpPkeyPtr key;   // never null
};

class Jwks {
 public:
  // Parses a JWKS JSON document ({"keys":[...]}). INVALID_ARGUMENT JWKS_INVALID naming what
  // is wrong: malformed JSON, no "keys" array, a broken key of a kept kind (see above), or
  // no usable key at all.
  static absl::StatusOr<Jwks> Parse(absl::string_view json);

  // The key with `kid` for `alg` ("RS256" or "ES256"); nullptr when no key has that kid
  // and algorithm (an RSA key is never returned for ES256, nor an EC key for RS256).
  const JwkKey* Find(absl::string_view kid, absl::string_view alg) const;
  // For a token without a kid: every key usable for `alg`, in document order.
  std::vector<const JwkKey*> KeysFor(absl::string_view alg) const;

  size_t size() const { return keys_.size(); }
  // How many keys of the document were skipped as unsupported.
  size_t skipped() const { return skipped_; }

 private:
  std::vector<JwkKey> keys_;
  size_t skipped_ = 0;
};

// Reads and parses the JWKS file at `path` (at most kMaxJwksFileBytes). NOT_FOUND
// JWKS_NOT_FOUND when there is no such file; INVALID_ARGUMENT JWKS_INVALID when it cannot
// be read or does not parse. Both messages name the path.
absl::StatusOr<std::shared_ptr<const Jwks>> LoadJwksFile(const std::string& path);

}  // namespace kelola::auth
