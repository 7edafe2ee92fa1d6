#pragma once

// Who is calling the gateway (G4): exactly one credential per call, either
//   authorization: Bearer <JWT>   verified against the JWKS (--jwt_jwks_file), or
//   x-api-key: <key>              looked up by its SHA-256 in the API key file,
// and, when the caller names a tenant itself (x-kelola-tenant), it must be the
// credential's. Verified tokens are remembered until they expire, so a token costs one
// signature check, not one per call; a reloaded JWKS forgets them all.

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/watched_file.h"
#include "grpcpp/support/string_ref.h"
#include "libs/auth/jwks.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/auth/principal.h"
#include "libs/clock/clock.h"

namespace kelola::gateway {

inline constexpr char kApiKeyHeader[] = "x-api-key";
inline constexpr char kAuthorizationHeader[] = "authorization";

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

class Authenticator {
 public:
  // Either source may be null (that kind of credential is then refused).
  Authenticator(WatchedFile<ApiKeys>* api_keys, WatchedFile<auth::Jwks>* jwks,
                auth::JwtSettings jwt, const Clock& clock, size_t max_cached_tokens = 100000);

  // UNAUTHENTICATED (reasons CREDENTIALS_MISSING, CREDENTIALS_AMBIGUOUS, API_KEY_INVALID,
  // TOKEN_INVALID, TOKEN_EXPIRED) or PERMISSION_DENIED (TENANT_MISMATCH).
  absl::StatusOr<std::shared_ptr<const auth::Principal>> Authenticate(const Metadata& metadata);

 private:
  absl::StatusOr<std::shared_ptr<const auth::Principal>> FromApiKey(absl::string_view key);
  absl::StatusOr<std::shared_ptr<const auth::Principal>> FromToken(absl::string_view token);

  WatchedFile<ApiKeys>* const api_keys_;
  WatchedFile<auth::Jwks>* const jwks_;
  const auth::JwtSettings jwt_;
  const Clock& clock_;
  const size_t max_cached_tokens_;

  absl::Mutex mu_;
  const auth::Jwks* cached_for_ ABSL_GUARDED_BY(mu_) = nullptr;  // the JWKS the cache holds
  absl::flat_hash_map<std::string, std::shared_ptr<const auth::Principal>> tokens_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::gateway
