#include "libs/auth/jwt_verifier.h"

#include <openssl/evp.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/base64url.h"
#include "libs/errors/errors.h"
#include "tests/libs/auth/test_keys.h"

namespace kelola::auth {
namespace {

using test_keys::EcJwk;
using test_keys::GenerateRsa;
using test_keys::JwksOf;
using test_keys::RsaJwk;
using test_keys::SharedOtherRsaKey;
using test_keys::SharedP256Key;
using test_keys::SharedRsaKey;
using test_keys::SignToken;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
constexpr char kIssuer[] = "https://id.kelola.test";
constexpr char kAudience[] = "kelola-gateway";

// Claim name -> its JSON value.
using Claims = std::map<std::string, std::string>;

Claims GoodClaims() {
  const int64_t now = absl::ToUnixSeconds(kNow);
  return {{"iss", absl::StrCat("\"", kIssuer, "\"")},
          {"aud", absl::StrCat("\"", kAudience, "\"")},
          {"sub", R"("user-42")"},
          {"name", R"("Siti Rahma")"},
          {"tenant", R"("t-001")"},
          {"roles", R"(["owner","cashier"])"},
          {"stores", R"(["store-1","store-2"])"},
          {"iat", absl::StrCat(now - 60)},
          {"exp", absl::StrCat(now + 3600)}};
}

std::string Json(const Claims& claims) {
  return absl::StrCat("{",
                      absl::StrJoin(claims, ",",
                                    [](std::string* out, const auto& claim) {
                                      absl::StrAppend(out, "\"", claim.first, "\":", claim.second);
                                    }),
                      "}");
}

std::string Header(absl::string_view alg, absl::string_view kid) {
  return absl::StrCat(R"({"typ":"JWT","alg":")", alg, R"(","kid":")", kid, R"("})");
}

std::string Rs256(const Claims& claims = GoodClaims(), absl::string_view kid = "rsa-1") {
  return SignToken(Header("RS256", kid), Json(claims), SharedRsaKey());
}

std::string Es256(const Claims& claims = GoodClaims(), absl::string_view kid = "ec-1") {
  return SignToken(Header("ES256", kid), Json(claims), SharedP256Key());
}

std::shared_ptr<const Jwks> Keys() {
  auto keys =
      Jwks::Parse(JwksOf({RsaJwk(SharedRsaKey(), "rsa-1"), RsaJwk(SharedOtherRsaKey(), "rsa-2"),
                          EcJwk(SharedP256Key(), "ec-1")}));
  EXPECT_TRUE(keys.ok()) << keys.status();
  return std::make_shared<const Jwks>(*std::move(keys));
}

absl::StatusOr<Principal> Verify(absl::string_view token, absl::Time now = kNow) {
  static const JwtVerifier* verifier =
      new JwtVerifier(Keys(), {.issuer = kIssuer, .audience = kAudience});
  return verifier->Verify(token, now);
}

// `token` is refused with `reason`, a message containing `why`, and no part of the token.
void ExpectRefused(absl::string_view token, absl::string_view why,
                   absl::string_view reason = kReasonTokenInvalid, absl::Time now = kNow) {
  absl::StatusOr<Principal> principal = Verify(token, now);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(errors::Reason(principal.status()), reason);
  EXPECT_THAT(principal.status().message(), HasSubstr(why));
  for (absl::string_view segment : absl::StrSplit(token, '.')) {
    if (segment.size() > 8) {
      EXPECT_THAT(principal.status().message(), Not(HasSubstr(segment)));
    }
  }
}

// The token with segment `index` replaced.
std::string WithSegment(absl::string_view token, size_t index, absl::string_view segment) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  parts[index] = std::string(segment);
  return absl::StrJoin(parts, ".");
}

TEST(JwtVerifierTest, Rs256TokenGivesThePrincipal) {
  absl::StatusOr<Principal> principal = Verify(Rs256());
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "user-42");
  EXPECT_EQ(principal->kind, PrincipalKind::kUser);
  EXPECT_EQ(principal->display_name, "Siti Rahma");
  EXPECT_EQ(principal->tenant_id, "t-001");
  EXPECT_THAT(principal->roles, ElementsAre(Role::kOwner, Role::kCashier));
  EXPECT_THAT(principal->stores, ElementsAre("store-1", "store-2"));
  EXPECT_EQ(principal->expire_time, kNow + absl::Hours(1));
}

TEST(JwtVerifierTest, Es256TokenGivesThePrincipal) {
  Claims claims = GoodClaims();
  claims.erase("stores");
  claims.erase("name");
  claims["roles"] = R"(["platform_admin"])";
  absl::StatusOr<Principal> principal = Verify(Es256(claims));
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->id, "user-42");
  EXPECT_EQ(principal->display_name, "");
  EXPECT_THAT(principal->roles, ElementsAre(Role::kPlatformAdmin));
  EXPECT_TRUE(principal->stores.empty());
}

TEST(JwtVerifierTest, WithoutKidEveryKeyOfTheAlgIsTried) {
  const std::string token =
      SignToken(R"({"alg":"RS256"})", Json(GoodClaims()), SharedOtherRsaKey());  // the second key
  EXPECT_TRUE(Verify(token).ok());
  ExpectRefused(SignToken(R"({"alg":"RS256"})", Json(GoodClaims()), GenerateRsa(2048).get()),
                "does not verify with any RS256 key");
}

TEST(JwtVerifierTest, TamperedPayloadIsRefused) {
  Claims admin = GoodClaims();
  admin["roles"] = R"(["platform_admin"])";
  for (const std::string& token : {Rs256(), Es256()}) {
    ExpectRefused(WithSegment(token, 1, Base64UrlEncode(Json(admin))), "does not verify");
  }
}

TEST(JwtVerifierTest, TamperedSignatureIsRefused) {
  for (const std::string& token : {Rs256(), Es256()}) {
    std::vector<std::string> parts = absl::StrSplit(token, '.');
    std::string signature = *Base64UrlDecode(parts[2]);
    signature[signature.size() / 2] ^= 0x01;
    ExpectRefused(WithSegment(token, 2, Base64UrlEncode(signature)), "does not verify");
  }
}

TEST(JwtVerifierTest, KidOfAnotherKeyIsRefused) {
  const std::string token = SignToken(Header("RS256", "rsa-2"), Json(GoodClaims()), SharedRsaKey());
  ExpectRefused(token, "does not verify with the RS256 key of kid \"rsa-2\"");
}

TEST(JwtVerifierTest, UnknownKidIsRefused) {
  ExpectRefused(Rs256(GoodClaims(), "rsa-9"), "no RS256 key has the token's kid \"rsa-9\"");
  // A kid that is not plain text is not quoted.
  absl::StatusOr<Principal> odd = Verify(Rs256(GoodClaims(), "<script>"));
  ASSERT_FALSE(odd.ok());
  EXPECT_THAT(odd.status().message(), Not(HasSubstr("script")));
}

TEST(JwtVerifierTest, ExpiredTokenIsRefusedBeyondTheLeeway) {
  const std::string token = Rs256();  // exp = kNow + 1h, leeway 60s
  EXPECT_TRUE(Verify(token, kNow + absl::Hours(1)).ok());
  EXPECT_TRUE(Verify(token, kNow + absl::Hours(1) + absl::Seconds(59)).ok());
  ExpectRefused(token, "expired at 2026-01-01T01:00:00Z", kReasonTokenExpired,
                kNow + absl::Hours(1) + absl::Seconds(60));
  ExpectRefused(token, "expired", kReasonTokenExpired, kNow + absl::Hours(2));
}

TEST(JwtVerifierTest, NotBeforeInTheFutureIsRefused) {
  Claims claims = GoodClaims();
  claims["nbf"] = absl::StrCat(absl::ToUnixSeconds(kNow) + 600);
  ExpectRefused(Rs256(claims), "not valid before 2026-01-01T00:10:00Z");
  claims["nbf"] = absl::StrCat(absl::ToUnixSeconds(kNow) + 30);  // within the leeway
  EXPECT_TRUE(Verify(Rs256(claims)).ok());
}

TEST(JwtVerifierTest, WrongIssuerOrAudienceIsRefused) {
  Claims claims = GoodClaims();
  claims["iss"] = R"("https://evil.test")";
  ExpectRefused(Rs256(claims), "issuer is not \"https://id.kelola.test\"");
  claims.erase("iss");
  ExpectRefused(Rs256(claims), "no string iss claim");
  claims = GoodClaims();
  claims["aud"] = R"("another-api")";
  ExpectRefused(Rs256(claims), "audience does not include \"kelola-gateway\"");
  claims["aud"] = R"(["another-api", 7])";
  ExpectRefused(Rs256(claims), "audience does not include");
  claims.erase("aud");
  ExpectRefused(Rs256(claims), "no aud claim");
}

TEST(JwtVerifierTest, AudienceMayBeAnArray) {
  Claims claims = GoodClaims();
  claims["aud"] = R"(["another-api","kelola-gateway"])";
  EXPECT_TRUE(Verify(Rs256(claims)).ok());
}

TEST(JwtVerifierTest, MissingOrInvalidClaimsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"sub", "sub claim"},
                                                                  {"tenant", "tenant claim"},
                                                                  {"roles", "no roles claim"},
                                                                  {"exp", "no exp claim"}};
  for (const auto& [claim, why] : cases) {
    Claims claims = GoodClaims();
    claims.erase(claim);
    ExpectRefused(Rs256(claims), why);
  }
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"sub", R"("")", "sub claim"},
      {"sub", absl::StrCat("\"", std::string(201, 'u'), "\""), "sub claim"},
      {"tenant", R"("t 1")", "tenant claim"},
      {"tenant", absl::StrCat("\"", std::string(65, 't'), "\""), "tenant claim"},
      {"roles", "[]", "roles claim"},
      {"roles", R"("owner")", "roles claim"},
      {"roles", R"(["owner", 3])", "roles claim"},
      {"stores", "[]", "stores claim"},
      {"exp", R"("tomorrow")", "exp claim is not a NumericDate"},
      {"nbf", "-5", "nbf claim is not a NumericDate"}};
  for (const auto& [claim, value, why] : bad) {
    Claims claims = GoodClaims();
    claims[claim] = value;
    ExpectRefused(Rs256(claims), why);
  }
}

TEST(JwtVerifierTest, UnknownRoleIsRefusedByName) {
  Claims claims = GoodClaims();
  claims["roles"] = R"(["owner","superuser"])";
  ExpectRefused(Rs256(claims), "unknown role \"superuser\"");
}

TEST(JwtVerifierTest, AlgNoneIsRefused) {
  const std::string token = absl::StrCat(Base64UrlEncode(R"({"alg":"none"})"), ".",
                                         Base64UrlEncode(Json(GoodClaims())), ".");
  ExpectRefused(token, "alg is not RS256 or ES256");
}

// The classic confusion attack: an HMAC "signed" with the verifier's RSA public key.
TEST(JwtVerifierTest, Hs256KeyedWithThePublicKeyIsRefused) {
  const std::string pem = test_keys::PublicPem(SharedRsaKey());
  const std::string input = absl::StrCat(Base64UrlEncode(Header("HS256", "rsa-1")), ".",
                                         Base64UrlEncode(Json(GoodClaims())));
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pem.data(), pem.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &mac_size),
            nullptr);
  const std::string token = absl::StrCat(
      input, ".", Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_size)));
  ExpectRefused(token, "alg is not RS256 or ES256");
}

TEST(JwtVerifierTest, Rs256HeaderNamingAnEcKeyIsRefused) {
  const std::string token = SignToken(Header("RS256", "ec-1"), Json(GoodClaims()), SharedP256Key());
  ExpectRefused(token, "no RS256 key has the token's kid \"ec-1\"");
  const std::string swapped =
      SignToken(Header("ES256", "rsa-1"), Json(GoodClaims()), SharedRsaKey());
  ExpectRefused(swapped, "ES256 signature is not 64 bytes");
}

TEST(JwtVerifierTest, Es256SignatureMustBeRawRAndS) {
  const std::string input = absl::StrCat(Base64UrlEncode(Header("ES256", "ec-1")), ".",
                                         Base64UrlEncode(Json(GoodClaims())));
  const std::string der = test_keys::SignSha256(SharedP256Key(), input);
  ExpectRefused(absl::StrCat(input, ".", Base64UrlEncode(der)), "not 64 bytes");
}

TEST(JwtVerifierTest, MalformedBase64IsRefused) {
  const std::string token = Rs256();
  const std::vector<std::string> parts = absl::StrSplit(token, '.');
  ExpectRefused(WithSegment(token, 0, parts[0] + "*"), "header is not base64url");
  ExpectRefused(WithSegment(token, 0, "e30"), "no string \"alg\"");  // {}
  ExpectRefused(WithSegment(token, 1, parts[1] + "="), "payload is not base64url");
  ExpectRefused(WithSegment(token, 1, parts[1] + "+/"), "payload is not base64url");
  ExpectRefused(WithSegment(token, 2, parts[2] + "=="), "signature is not base64url");
  ExpectRefused(WithSegment(token, 2, ""), "no signature");
  // Signed, but the payload is not JSON.
  const std::string not_json =
      absl::StrCat(Base64UrlEncode(Header("RS256", "rsa-1")), ".", Base64UrlEncode("not json"));
  ExpectRefused(
      absl::StrCat(not_json, ".", Base64UrlEncode(test_keys::SignSha256(SharedRsaKey(), not_json))),
      "payload is not a JSON object");
}

// A member given twice could be read differently by another parser; the JSON parser refuses it.
TEST(JwtVerifierTest, DuplicateMembersAreRefused) {
  ExpectRefused(SignToken(R"({"alg":"none","alg":"RS256","kid":"rsa-1"})", Json(GoodClaims()),
                          SharedRsaKey()),
                "header is not base64url of a JSON object");
  const std::string payload = Json(GoodClaims());
  const std::string twice =
      absl::StrCat(payload.substr(0, payload.size() - 1), R"(,"roles":["platform_admin"]})");
  ExpectRefused(SignToken(Header("RS256", "rsa-1"), twice, SharedRsaKey()),
                "payload is not a JSON object");
}

TEST(JwtVerifierTest, OnlyThreeSegmentsAreAccepted) {
  const std::vector<std::string> parts = absl::StrSplit(Rs256(), '.');
  ExpectRefused(absl::StrCat(parts[0], ".", parts[1]), "has 2 dot-separated segments");
  ExpectRefused(absl::StrCat(Rs256(), ".", parts[2]), "has 4 dot-separated segments");
  ExpectRefused("", "has 1 dot-separated segments");
}

TEST(JwtVerifierTest, OversizeTokenIsRefusedUnread) {
  Claims claims = GoodClaims();
  claims["name"] = absl::StrCat("\"", std::string(kMaxJwtBytes, 'n'), "\"");
  ExpectRefused(Rs256(claims), "longer than 16384 bytes");
  ExpectRefused(std::string(kMaxJwtBytes + 1, 'a'), "longer than 16384 bytes");
}

TEST(JwtVerifierTest, CriticalHeaderExtensionsAreRefused) {
  const std::string token = SignToken(R"({"alg":"RS256","kid":"rsa-1","crit":["b64"],"b64":false})",
                                      Json(GoodClaims()), SharedRsaKey());
  ExpectRefused(token, "\"crit\"");
}

}  // namespace
}  // namespace kelola::auth
