#include "libs/auth/internal_credential.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kelola/auth/v1/internal_credential.pb.h"
#include "libs/crypto/hmac.h"
#include "libs/errors/errors.h"

namespace kelola::auth {
namespace {

constexpr char kPrefix[] = "k1.";
constexpr size_t kMaxCredentialChars = 8192;

absl::string_view KindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kUser:
      return "user";
    case PrincipalKind::kApiKey:
      return "api_key";
    case PrincipalKind::kService:
      return "service";
  }
  return "";
}

std::optional<PrincipalKind> ParseKind(absl::string_view name) {
  for (auto kind : {PrincipalKind::kUser, PrincipalKind::kApiKey, PrincipalKind::kService}) {
    if (KindName(kind) == name) return kind;
  }
  return std::nullopt;
}

absl::Status Invalid(absl::string_view why) {
  return errors::Error(absl::StatusCode::kUnauthenticated, "CREDENTIAL_INVALID",
                       absl::StrCat("the internal credential is not valid: ", why));
}

std::string Tag(absl::string_view key, absl::string_view signed_part) {
  return absl::WebSafeBase64Escape(crypto::HmacSha256(key, signed_part));
}

absl::StatusOr<Principal> ToPrincipal(const v1::InternalCredential& message) {
  Principal principal;
  const auto kind = ParseKind(message.principal_kind());
  if (!kind) return Invalid("unknown principal kind");
  principal.kind = *kind;
  principal.id = message.principal_id();
  principal.display_name = message.display_name();
  principal.tenant_id = message.tenant_id();
  if (principal.id.empty()) return Invalid("no principal");
  if (principal.tenant_id.empty() && principal.kind != PrincipalKind::kService) {
    return Invalid("no tenant");
  }
  for (const std::string& name : message.roles()) {
    const auto role = ParseRole(name);
    if (!role) return Invalid(absl::StrCat("unknown role '", name, "'"));
    principal.roles.push_back(*role);
  }
  principal.stores.assign(message.store_ids().begin(), message.store_ids().end());
  return principal;
}

}  // namespace

CredentialSigner::CredentialSigner(std::string key, std::string caller, const Clock& clock,
                                   absl::Duration lifetime)
    : key_(std::move(key)), caller_(std::move(caller)), clock_(clock), lifetime_(lifetime) {}

std::string CredentialSigner::Sign(const Principal& principal) const {
  v1::InternalCredential message;
  message.set_caller(caller_);
  message.set_tenant_id(principal.tenant_id);
  message.set_principal_id(principal.id);
  message.set_principal_kind(std::string(KindName(principal.kind)));
  message.set_display_name(principal.display_name);
  for (Role role : principal.roles) message.add_roles(std::string(RoleName(role)));
  for (const std::string& store : principal.stores) message.add_store_ids(store);
  message.set_expire_unix_millis(absl::ToUnixMillis(clock_.Now() + lifetime_));
  std::string signed_part =
      absl::StrCat(kPrefix, absl::WebSafeBase64Escape(message.SerializeAsString()));
  const std::string tag = Tag(key_, signed_part);
  return absl::StrCat(signed_part, ".", tag);
}

CredentialVerifier::CredentialVerifier(std::string key, const Clock& clock)
    : key_(std::move(key)), clock_(clock) {}

absl::StatusOr<VerifiedCall> CredentialVerifier::Verify(absl::string_view credential) const {
  if (credential.size() > kMaxCredentialChars) return Invalid("too long");
  if (!absl::StartsWith(credential, kPrefix)) return Invalid("unknown format");
  const size_t dot = credential.rfind('.');
  if (dot < sizeof(kPrefix) - 1) return Invalid("unknown format");
  const absl::string_view signed_part = credential.substr(0, dot);
  if (!crypto::ConstantTimeEquals(credential.substr(dot + 1), Tag(key_, signed_part))) {
    return Invalid("bad signature (is every process given the same --internal_key_file?)");
  }
  std::string payload;
  v1::InternalCredential message;
  if (!absl::WebSafeBase64Unescape(signed_part.substr(sizeof(kPrefix) - 1), &payload) ||
      !message.ParseFromString(payload)) {
    return Invalid("undecodable payload");
  }
  if (absl::FromUnixMillis(message.expire_unix_millis()) <= clock_.Now()) {
    return errors::Error(absl::StatusCode::kUnauthenticated, "CREDENTIAL_EXPIRED",
                         "the internal credential has expired (are the machines' clocks "
                         "synchronized?)");
  }
  auto principal = ToPrincipal(message);
  if (!principal.ok()) return principal.status();
  if (message.caller().empty()) return Invalid("no caller");
  return VerifiedCall{message.caller(), *std::move(principal)};
}

Principal ServicePrincipal(absl::string_view service, absl::string_view tenant_id) {
  Principal principal;
  principal.id = std::string(service);
  principal.kind = PrincipalKind::kService;
  principal.tenant_id = std::string(tenant_id);
  principal.roles = {Role::kOwner};
  return principal;
}

}  // namespace kelola::auth
