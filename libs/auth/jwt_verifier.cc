#include "libs/auth/jwt_verifier.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/auth/base64url.h"
#include "libs/crypto/openssl_ptr.h"
#include "libs/errors/errors.h"

namespace kelola::auth {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr size_t kEs256SignatureBytes = 64;  // r || s, 32 bytes each (RFC 7518 3.4)
constexpr size_t kMaxSubjectBytes = 200;
constexpr size_t kMaxTenantBytes = 64;
constexpr size_t kMaxListItemBytes = 200;  // a role name or a store id
constexpr size_t kMaxQuotedBytes = 40;
// NumericDate bounds: after 1970 and before the year 10000.
constexpr double kMaxNumericDate = 253402300800.0;

absl::Status Invalid(absl::string_view message) {
  return errors::Error(absl::StatusCode::kUnauthenticated, kReasonTokenInvalid, message);
}

// 1 to `max_bytes` characters of [A-Za-z0-9._-]: safe to quote in a message.
bool IsIdText(absl::string_view text, size_t max_bytes) {
  if (text.empty() || text.size() > max_bytes) return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// ` "kid"` when the kid is short plain text, else "" (a message never quotes odd input).
std::string QuotedKid(absl::string_view kid) {
  return IsIdText(kid, kMaxQuotedBytes) ? absl::StrCat(" \"", kid, "\"") : "";
}

const Value* Member(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

bool IsString(const Value* value) {
  return value != nullptr && value->kind_case() == Value::kStringValue;
}

// The JSON object a base64url segment carries.
std::optional<Struct> DecodeObject(absl::string_view segment) {
  const std::optional<std::string> json = Base64UrlDecode(segment);
  if (!json.has_value()) return std::nullopt;
  const google::protobuf::StringPiece text(json->data(), json->size());
  Struct object;
  if (!google::protobuf::util::JsonStringToMessage(text, &object).ok()) return std::nullopt;
  return object;
}

struct Header {
  std::string alg;                 // kAlgRs256 or kAlgEs256
  std::optional<std::string> kid;  // absent: try every key of alg
};

absl::StatusOr<Header> ParseHeader(absl::string_view segment) {
  std::optional<Struct> object = DecodeObject(segment);
  if (!object.has_value()) return Invalid("the token's header is not base64url of a JSON object");
  const Value* alg = Member(*object, "alg");
  if (!IsString(alg)) return Invalid("the token's header has no string \"alg\"");
  // The algorithm comes from the allow-list, never from the token: "none", HMAC (whose
  // key would be a public key anyone has) and everything else stop here.
  if (alg->string_value() != kAlgRs256 && alg->string_value() != kAlgEs256) {
    return Invalid("the token's alg is not RS256 or ES256");
  }
  if (Member(*object, "crit") != nullptr) {
    return Invalid("the token's header has \"crit\" extensions, which are not supported");
  }
  Header header;
  header.alg = alg->string_value();
  if (const Value* kid = Member(*object, "kid"); kid != nullptr) {
    if (!IsString(kid)) return Invalid("the token's kid is not a string");
    header.kid = kid->string_value();
  }
  return header;
}

// The DER ECDSA-Sig-Value OpenSSL verifies, from JWS's fixed-size r || s.
std::optional<std::string> EcdsaDer(absl::string_view raw) {
  if (raw.size() != kEs256SignatureBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  const int half = kEs256SignatureBytes / 2;
  crypto::OpenSslPtr<ECDSA_SIG, ECDSA_SIG_free> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

// True when `signature` over `input` verifies with `key`.
bool VerifyWith(const JwkKey& key, absl::string_view input, absl::string_view signature) {
  const bool rsa = key.alg == kAlgRs256;
  if (EVP_PKEY_is_a(key.key.get(), rsa ? "RSA" : "EC") != 1) return false;
  std::string der;
  if (rsa) {
    if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.key.get()))) return false;
  } else {
    std::optional<std::string> converted = EcdsaDer(signature);
    if (!converted.has_value()) return false;
    der = *std::move(converted);
    signature = der;
  }
  crypto::OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, key.key.get(),
                                    nullptr) == 1 &&
            (!rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1) &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                             input.size()) == 1;
  ERR_clear_error();  // a failed verification leaves entries on this thread's error queue
  return ok;
}

absl::Status CheckSignature(const Jwks& keys, const Header& header, absl::string_view input,
                            absl::string_view signature) {
  if (signature.empty()) return Invalid("the token has no signature");
  if (header.alg == kAlgEs256 && signature.size() != kEs256SignatureBytes) {
    return Invalid("the token's ES256 signature is not 64 bytes (r || s)");
  }
  std::vector<const JwkKey*> candidates;
  if (header.kid.has_value()) {
    const JwkKey* key = keys.Find(*header.kid, header.alg);
    if (key == nullptr) {
      return Invalid(
          absl::StrCat("no ", header.alg, " key has the token's kid", QuotedKid(*header.kid)));
    }
    candidates.push_back(key);
  } else {
    candidates = keys.KeysFor(header.alg);
    if (candidates.empty()) {
      return Invalid(absl::StrCat("the token has no kid and there is no ", header.alg, " key"));
    }
  }
  for (const JwkKey* key : candidates) {
    if (VerifyWith(*key, input, signature)) return absl::OkStatus();
  }
  return Invalid(
      header.kid.has_value()
          ? absl::StrCat("the token's signature does not verify with the ", header.alg,
                         " key of kid", QuotedKid(*header.kid))
          : absl::StrCat("the token's signature does not verify with any ", header.alg, " key"));
}

absl::Status CheckIssuerAndAudience(const Struct& claims, const JwtSettings& settings) {
  const Value* iss = Member(claims, "iss");
  if (!IsString(iss)) return Invalid("the token has no string iss claim");
  if (iss->string_value() != settings.issuer) {
    return Invalid(absl::StrCat("the token's issuer is not \"", settings.issuer, "\""));
  }
  const Value* aud = Member(claims, "aud");
  if (aud == nullptr) return Invalid("the token has no aud claim");
  bool found = IsString(aud) && aud->string_value() == settings.audience;
  if (aud != nullptr && aud->kind_case() == Value::kListValue) {
    for (const Value& item : aud->list_value().values()) {
      found = found || (IsString(&item) && item.string_value() == settings.audience);
    }
  }
  if (!found) {
    return Invalid(
        absl::StrCat("the token's audience does not include \"", settings.audience, "\""));
  }
  return absl::OkStatus();
}

// The NumericDate claim `name`; nullopt when absent.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const Struct& claims, const std::string& name) {
  const Value* value = Member(claims, name);
  if (value == nullptr) return std::nullopt;
  if (value->kind_case() != Value::kNumberValue || !std::isfinite(value->number_value()) ||
      value->number_value() < 0 || value->number_value() >= kMaxNumericDate) {
    return Invalid(absl::StrCat("the token's ", name, " claim is not a NumericDate"));
  }
  return absl::UnixEpoch() + absl::Seconds(value->number_value());
}

std::string Utc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// exp, after checking exp and nbf against `now`.
absl::StatusOr<absl::Time> CheckTimes(const Struct& claims, absl::Time now, absl::Duration leeway) {
  absl::StatusOr<std::optional<absl::Time>> exp = TimeClaim(claims, "exp");
  if (!exp.ok()) return exp.status();
  if (!exp->has_value()) return Invalid("the token has no exp claim");
  if (now >= **exp + leeway) {
    return errors::Error(absl::StatusCode::kUnauthenticated, kReasonTokenExpired,
                         absl::StrCat("the token expired at ", Utc(**exp), " (leeway ",
                                      absl::FormatDuration(leeway), ")"));
  }
  absl::StatusOr<std::optional<absl::Time>> nbf = TimeClaim(claims, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (nbf->has_value() && now < **nbf - leeway) {
    return Invalid(absl::StrCat("the token is not valid before ", Utc(**nbf), " (leeway ",
                                absl::FormatDuration(leeway), ")"));
  }
  return **exp;
}

// The claim `name` as a list of strings of 1 to `max_bytes` bytes; nullopt when absent.
// An empty list is refused: for "stores" it would read as "every store".
absl::StatusOr<std::optional<std::vector<std::string>>> StringListClaim(const Struct& claims,
                                                                        const std::string& name,
                                                                        size_t max_bytes) {
  const Value* value = Member(claims, name);
  if (value == nullptr) return std::nullopt;
  const std::string refused = absl::StrCat("the token's ", name, " claim is not a non-empty ",
                                           "array of strings of 1-", max_bytes, " bytes");
  if (value->kind_case() != Value::kListValue || value->list_value().values().empty()) {
    return Invalid(refused);
  }
  std::vector<std::string> items;
  for (const Value& item : value->list_value().values()) {
    if (!IsString(&item) || item.string_value().empty() || item.string_value().size() > max_bytes) {
      return Invalid(refused);
    }
    items.push_back(item.string_value());
  }
  return items;
}

absl::StatusOr<std::vector<Role>> RolesClaim(const Struct& claims) {
  absl::StatusOr<std::optional<std::vector<std::string>>> names =
      StringListClaim(claims, "roles", kMaxListItemBytes);
  if (!names.ok()) return names.status();
  if (!names->has_value()) return Invalid("the token has no roles claim");
  std::vector<Role> roles;
  for (const std::string& name : **names) {
    std::optional<Role> role = ParseRole(name);
    if (!role.has_value()) {
      return Invalid(absl::StrCat("the token's roles claim names an unknown role \"",
                                  errors::ClipUtf8(name, kMaxQuotedBytes), "\""));
    }
    if (std::find(roles.begin(), roles.end(), *role) == roles.end()) roles.push_back(*role);
  }
  return roles;
}

absl::StatusOr<Principal> PrincipalOf(const Struct& claims, absl::Time exp) {
  Principal principal;
  principal.kind = PrincipalKind::kUser;
  principal.expire_time = exp;
  const Value* sub = Member(claims, "sub");
  if (!IsString(sub) || sub->string_value().empty() ||
      sub->string_value().size() > kMaxSubjectBytes) {
    return Invalid("the token's sub claim is not a string of 1-200 bytes");
  }
  principal.id = sub->string_value();
  if (const Value* name = Member(claims, "name"); IsString(name)) {
    principal.display_name = name->string_value();
  }
  const Value* tenant = Member(claims, "tenant");
  if (!IsString(tenant) || !IsIdText(tenant->string_value(), kMaxTenantBytes)) {
    return Invalid("the token's tenant claim is not 1-64 characters of [A-Za-z0-9._-]");
  }
  principal.tenant_id = tenant->string_value();
  absl::StatusOr<std::vector<Role>> roles = RolesClaim(claims);
  if (!roles.ok()) return roles.status();
  principal.roles = *std::move(roles);
  absl::StatusOr<std::optional<std::vector<std::string>>> stores =
      StringListClaim(claims, "stores", kMaxListItemBytes);
  if (!stores.ok()) return stores.status();
  if (stores->has_value()) principal.stores = **std::move(stores);
  return principal;
}

}  // namespace

JwtVerifier::JwtVerifier(std::shared_ptr<const Jwks> keys, JwtSettings settings)
    : keys_(std::move(keys)), settings_(std::move(settings)) {}

absl::StatusOr<Principal> JwtVerifier::Verify(absl::string_view token, absl::Time now) const {
  if (token.size() > kMaxJwtBytes) {
    return Invalid(absl::StrCat("the token is longer than ", kMaxJwtBytes, " bytes"));
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Invalid(absl::StrCat("the token has ", parts.size(),
                                " dot-separated segments; a signed JWT has 3"));
  }
  absl::StatusOr<Header> header = ParseHeader(parts[0]);
  if (!header.ok()) return header.status();
  std::optional<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature.has_value()) return Invalid("the token's signature is not base64url");
  if (!Base64UrlDecode(parts[1]).has_value()) {
    return Invalid("the token's payload is not base64url");
  }
  // The signing input is the token's first two segments as sent (RFC 7515 5.2).
  const absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  absl::Status signed_ok = CheckSignature(*keys_, *header, signing_input, *signature);
  if (!signed_ok.ok()) return signed_ok;
  // Claims are read only from a payload whose signature holds.
  std::optional<Struct> claims = DecodeObject(parts[1]);
  if (!claims.has_value()) return Invalid("the token's payload is not a JSON object");
  absl::Status origin = CheckIssuerAndAudience(*claims, settings_);
  if (!origin.ok()) return origin;
  absl::StatusOr<absl::Time> exp = CheckTimes(*claims, now, settings_.leeway);
  if (!exp.ok()) return exp.status();
  return PrincipalOf(*claims, *exp);
}

}  // namespace kelola::auth
