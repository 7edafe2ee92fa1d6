#include "libs/auth/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/auth/base64url.h"
#include "libs/crypto/openssl_ptr.h"
#include "libs/errors/errors.h"

namespace kelola::auth {

void EvpPkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

using BnPtr = crypto::OpenSslPtr<BIGNUM, BN_free>;
using ParamBldPtr = crypto::OpenSslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = crypto::OpenSslPtr<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = crypto::OpenSslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

constexpr size_t kP256CoordinateBytes = 32;

absl::Status Invalid(absl::string_view message) {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonJwksInvalid, message);
}

const Value* Member(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

// The member `name` when it is a string, else "".
std::string StringMember(const Struct& object, const std::string& name) {
  const Value* value = Member(object, name);
  return value != nullptr && value->kind_case() == Value::kStringValue ? value->string_value() : "";
}

bool ListHasString(const Value& list, absl::string_view wanted) {
  if (list.kind_case() != Value::kListValue) return false;
  for (const Value& item : list.list_value().values()) {
    if (item.kind_case() == Value::kStringValue && item.string_value() == wanted) return true;
  }
  return false;
}

// The algorithm the set keeps `jwk` for, or nullopt when the set skips it.
std::optional<std::string> KeptAlg(const Struct& jwk) {
  const Value* use = Member(jwk, "use");
  if (use != nullptr &&
      !(use->kind_case() == Value::kStringValue && use->string_value() == "sig")) {
    return std::nullopt;
  }
  const Value* ops = Member(jwk, "key_ops");
  if (ops != nullptr && !ListHasString(*ops, "verify")) return std::nullopt;
  const std::string kty = StringMember(jwk, "kty");
  std::string wanted;
  if (kty == "RSA") {
    wanted = kAlgRs256;
  } else if (kty == "EC" && StringMember(jwk, "crv") == "P-256") {
    wanted = kAlgEs256;
  } else {
    return std::nullopt;
  }
  const Value* alg = Member(jwk, "alg");
  if (alg != nullptr &&
      !(alg->kind_case() == Value::kStringValue && alg->string_value() == wanted)) {
    return std::nullopt;
  }
  return wanted;
}

// The bytes of the required base64url member `name`.
absl::StatusOr<std::string> BytesMember(const Struct& jwk, const std::string& name,
                                        absl::string_view where) {
  const Value* value = Member(jwk, name);
  if (value == nullptr || value->kind_case() != Value::kStringValue) {
    return Invalid(absl::StrCat(where, " has no string \"", name, "\""));
  }
  std::optional<std::string> bytes = Base64UrlDecode(value->string_value());
  if (!bytes.has_value() || bytes->empty()) {
    return Invalid(absl::StrCat(where, ": \"", name, "\" is not non-empty base64url"));
  }
  return *std::move(bytes);
}

// A public key of `type` ("RSA", "EC") from the parameters in `bld`.
absl::StatusOr<EvpPkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld,
                                      absl::string_view where) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return Invalid(absl::StrCat(where, " is not a valid ", type, " public key"));
  }
  return EvpPkeyPtr(raw);
}

absl::StatusOr<EvpPkeyPtr> RsaKey(const Struct& jwk, absl::string_view where) {
  absl::StatusOr<std::string> n_bytes = BytesMember(jwk, "n", where);
  if (!n_bytes.ok()) return n_bytes.status();
  absl::StatusOr<std::string> e_bytes = BytesMember(jwk, "e", where);
  if (!e_bytes.ok()) return e_bytes.status();
  const auto* n_data = reinterpret_cast<const unsigned char*>(n_bytes->data());
  const auto* e_data = reinterpret_cast<const unsigned char*>(e_bytes->data());
  BnPtr n(BN_bin2bn(n_data, static_cast<int>(n_bytes->size()), nullptr));
  BnPtr e(BN_bin2bn(e_data, static_cast<int>(e_bytes->size()), nullptr));
  if (n == nullptr || e == nullptr) return Invalid(absl::StrCat(where, ": out of memory"));
  const int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Invalid(absl::StrCat(where, " has a ", bits, "-bit modulus; RS256 keys need ",
                                kMinRsaBits, " to ", kMaxRsaBits, " bits"));
  }
  // OpenSSL refuses a public exponent over 64 bits for large moduli; an even or tiny one is
  // not an RSA key at all.
  if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 ||
      BN_num_bits(e.get()) > 64) {
    return Invalid(absl::StrCat(where, " has an invalid modulus or exponent"));
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Invalid(absl::StrCat(where, ": out of memory"));
  }
  return FromParams("RSA", bld.get(), where);
}

absl::StatusOr<EvpPkeyPtr> EcKey(const Struct& jwk, absl::string_view where) {
  absl::StatusOr<std::string> x = BytesMember(jwk, "x", where);
  if (!x.ok()) return x.status();
  absl::StatusOr<std::string> y = BytesMember(jwk, "y", where);
  if (!y.ok()) return y.status();
  // RFC 7518 section 6.2.1.2: each coordinate is exactly the size of the field.
  if (x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
    return Invalid(absl::StrCat(where, ": P-256 coordinates x and y must be 32 bytes each"));
  }
  const std::string point = absl::StrCat("\x04", *x, *y);  // uncompressed SEC1 point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Invalid(absl::StrCat(where, ": out of memory"));
  }
  // OpenSSL refuses a point off the curve on import; the explicit check keeps that promise
  // whatever the provider, since such a point would let a forged signature through.
  absl::StatusOr<EvpPkeyPtr> key = FromParams("EC", bld.get(), where);
  PkeyCtxPtr check(key.ok() ? EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr) : nullptr);
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return Invalid(absl::StrCat(where, ": the point (x, y) is not on P-256"));
  }
  return key;
}

// The key `jwk` describes, nullopt when the set skips it.
absl::StatusOr<std::optional<JwkKey>> ParseKey(const Struct& jwk, int index) {
  std::optional<std::string> alg = KeptAlg(jwk);
  if (!alg.has_value()) return std::nullopt;
  JwkKey key;
  key.alg = *alg;
  std::string where = absl::StrCat("keys[", index, "]");
  if (const Value* kid = Member(jwk, "kid"); kid != nullptr) {
    if (kid->kind_case() != Value::kStringValue) {
      return Invalid(absl::StrCat(where, ": \"kid\" is not a string"));
    }
    key.kid = kid->string_value();
    absl::StrAppend(&where, " (kid \"", key.kid, "\")");
  }
  absl::StatusOr<EvpPkeyPtr> pkey = key.alg == kAlgRs256 ? RsaKey(jwk, where) : EcKey(jwk, where);
  if (!pkey.ok()) return pkey.status();
  key.key = *std::move(pkey);
  return key;
}

}  // namespace

absl::StatusOr<Jwks> Jwks::Parse(absl::string_view json) {
  Struct document;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(json.data(), json.size()), &document)
           .ok()) {
    return Invalid("the JWKS is not a JSON object");
  }
  const Value* keys = Member(document, "keys");
  if (keys == nullptr || keys->kind_case() != Value::kListValue) {
    return Invalid("the JWKS has no \"keys\" array");
  }
  Jwks set;
  for (int i = 0; i < keys->list_value().values_size(); ++i) {
    const Value& jwk = keys->list_value().values(i);
    if (jwk.kind_case() != Value::kStructValue) {
      return Invalid(absl::StrCat("keys[", i, "] is not a JSON object"));
    }
    absl::StatusOr<std::optional<JwkKey>> key = ParseKey(jwk.struct_value(), i);
    if (!key.ok()) return key.status();
    if (!key->has_value()) {
      ++set.skipped_;
      continue;
    }
    if (!(*key)->kid.empty() && set.Find((*key)->kid, (*key)->alg) != nullptr) {
      return Invalid(
          absl::StrCat("keys[", i, "]: two ", (*key)->alg, " keys have kid \"", (*key)->kid, "\""));
    }
    set.keys_.push_back(**std::move(key));
  }
  if (set.keys_.empty()) {
    return Invalid(absl::StrCat("the JWKS has no usable key (", set.skipped_,
                                " skipped); supported: RSA for RS256, EC P-256 for ES256"));
  }
  return set;
}

const JwkKey* Jwks::Find(absl::string_view kid, absl::string_view alg) const {
  for (const JwkKey& key : keys_) {
    if (!key.kid.empty() && key.kid == kid && key.alg == alg) return &key;
  }
  return nullptr;
}

std::vector<const JwkKey*> Jwks::KeysFor(absl::string_view alg) const {
  std::vector<const JwkKey*> found;
  for (const JwkKey& key : keys_) {
    if (key.alg == alg) found.push_back(&key);
  }
  return found;
}

absl::StatusOr<std::shared_ptr<const Jwks>> LoadJwksFile(const std::string& path) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    return errors::Error(absl::StatusCode::kNotFound, kReasonJwksNotFound,
                         absl::StrCat("no JWKS file at ", path));
  }
  if (status.type() != std::filesystem::file_type::regular) {
    return Invalid(absl::StrCat("the JWKS file ", path, " is not a regular file"));
  }
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error || size > kMaxJwksFileBytes) {
    return Invalid(absl::StrCat("the JWKS file ", path, " is unreadable or larger than ",
                                kMaxJwksFileBytes, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid(absl::StrCat("the JWKS file ", path, " cannot be opened"));
  const std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return Invalid(absl::StrCat("the JWKS file ", path, " cannot be read"));
  absl::StatusOr<Jwks> jwks = Jwks::Parse(text);
  if (!jwks.ok()) {
    return Invalid(absl::StrCat("the JWKS file ", path, ": ", jwks.status().message()));
  }
  return std::make_shared<const Jwks>(*std::move(jwks));
}

}  // namespace kelola::auth
