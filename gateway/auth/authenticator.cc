#include "gateway/auth/authenticator.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::gateway {
namespace {

absl::Status Unauthenticated(absl::string_view reason, absl::string_view message) {
  return errors::Error(absl::StatusCode::kUnauthenticated, reason, message);
}

// The single value of `key`; `*count` says how many there were.
absl::string_view Single(const Metadata& metadata, absl::string_view key, size_t* count) {
  auto [begin, end] = metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  *count = std::distance(begin, end);
  return *count == 0 ? absl::string_view()
                     : absl::string_view(begin->second.data(), begin->second.size());
}

}  // namespace

Authenticator::Authenticator(WatchedFile<ApiKeys>* api_keys, WatchedFile<auth::Jwks>* jwks,
                             auth::JwtSettings jwt, const Clock& clock, size_t max_cached_tokens)
    : api_keys_(api_keys),
      jwks_(jwks),
      jwt_(std::move(jwt)),
      clock_(clock),
      max_cached_tokens_(max_cached_tokens) {}

absl::StatusOr<std::shared_ptr<const auth::Principal>> Authenticator::Authenticate(
    const Metadata& metadata) {
  size_t keys = 0;
  size_t bearers = 0;
  size_t tenants = 0;
  const absl::string_view key = Single(metadata, kApiKeyHeader, &keys);
  const absl::string_view authorization = Single(metadata, kAuthorizationHeader, &bearers);
  const absl::string_view tenant = Single(metadata, server::kTenantHeader, &tenants);
  if (keys + bearers == 0) {
    return Unauthenticated("CREDENTIALS_MISSING",
                           "no credential: send `authorization: Bearer <token>` or "
                           "`x-api-key: <key>`");
  }
  if (keys + bearers > 1) {
    return Unauthenticated("CREDENTIALS_AMBIGUOUS",
                           "more than one credential: send exactly one of authorization and "
                           "x-api-key, once");
  }
  absl::StatusOr<std::shared_ptr<const auth::Principal>> principal;
  if (keys == 1) {
    principal = FromApiKey(key);
  } else {
    constexpr absl::string_view kBearer = "bearer ";
    if (authorization.size() <= kBearer.size() ||
        !absl::EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
      return Unauthenticated("TOKEN_INVALID", "authorization must be `Bearer <token>`");
    }
    principal = FromToken(absl::StripAsciiWhitespace(authorization.substr(kBearer.size())));
  }
  if (!principal.ok()) return principal;
  if (tenants > 1 || (tenants == 1 && tenant != (*principal)->tenant_id)) {
    return errors::Error(absl::StatusCode::kPermissionDenied, "TENANT_MISMATCH",
                         "x-kelola-tenant names another tenant than the credential's; leave "
                         "it out or send the credential's tenant");
  }
  return principal;
}

absl::StatusOr<std::shared_ptr<const auth::Principal>> Authenticator::FromApiKey(
    absl::string_view key) {
  if (api_keys_ != nullptr && !key.empty()) {
    std::shared_ptr<const ApiKeys> table = api_keys_->Current();
    if (const auth::Principal* found = table->Find(key)) {
      // Shares the table's lifetime: a reload does not free a principal in use.
      return std::shared_ptr<const auth::Principal>(table, found);
    }
  }
  return Unauthenticated("API_KEY_INVALID", "the API key is not known to this gateway");
}

absl::StatusOr<std::shared_ptr<const auth::Principal>> Authenticator::FromToken(
    absl::string_view token) {
  if (jwks_ == nullptr) {
    return Unauthenticated("TOKEN_INVALID", "this gateway accepts no tokens (no JWKS configured)");
  }
  const absl::Time now = clock_.Now();
  std::shared_ptr<const auth::Jwks> keys = jwks_->Current();
  {
    absl::MutexLock lock(&mu_);
    if (cached_for_ != keys.get()) {
      tokens_.clear();
      cached_for_ = keys.get();
    }
    auto it = tokens_.find(token);
    if (it != tokens_.end()) {
      if (it->second->expire_time && now < *it->second->expire_time + jwt_.leeway) {
        return it->second;
      }
      tokens_.erase(it);  // expired: verify again for the exact error
    }
  }
  auto verified = auth::JwtVerifier(keys, jwt_).Verify(token, now);
  if (!verified.ok()) return verified.status();
  auto principal = std::make_shared<const auth::Principal>(*std::move(verified));
  absl::MutexLock lock(&mu_);
  if (cached_for_ == keys.get()) {
    if (tokens_.size() >= max_cached_tokens_) tokens_.clear();
    tokens_.emplace(std::string(token), principal);
  }
  return principal;
}

}  // namespace kelola::gateway
