#include "libs/auth/jwks.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/auth/base64url.h"
#include "libs/errors/errors.h"
#include "libs/testing/temp_dir.h"
#include "tests/libs/auth/test_keys.h"

namespace kelola::auth {
namespace {

using test_keys::EcJwk;
using test_keys::GenerateRsa;
using test_keys::JwksOf;
using test_keys::RsaJwk;
using test_keys::SharedP256Key;
using test_keys::SharedRsaKey;
using ::testing::HasSubstr;

void ExpectInvalid(const absl::StatusOr<Jwks>& jwks, absl::string_view why) {
  ASSERT_FALSE(jwks.ok());
  EXPECT_EQ(jwks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(jwks.status()), kReasonJwksInvalid);
  EXPECT_THAT(jwks.status().message(), HasSubstr(why));
}

TEST(JwksTest, KeepsRsaAndP256KeysByKidAndAlg) {
  absl::StatusOr<Jwks> jwks = Jwks::Parse(JwksOf(
      {RsaJwk(SharedRsaKey(), "r1", R"(,"alg":"RS256","use":"sig")"), EcJwk(SharedP256Key(), "e1"),
       RsaJwk(SharedRsaKey(), "", R"(,"key_ops":["verify"])")}));
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_EQ(jwks->size(), 3u);
  EXPECT_EQ(jwks->skipped(), 0u);
  const JwkKey* rsa = jwks->Find("r1", kAlgRs256);
  ASSERT_NE(rsa, nullptr);
  EXPECT_EQ(rsa->alg, kAlgRs256);
  EXPECT_EQ(EVP_PKEY_get_bits(rsa->key.get()), 2048);
  ASSERT_NE(jwks->Find("e1", kAlgEs256), nullptr);
  EXPECT_EQ(EVP_PKEY_is_a(jwks->Find("e1", kAlgEs256)->key.get(), "EC"), 1);
  // A kid never finds a key of the other type, and a key without kid is never found by kid.
  EXPECT_EQ(jwks->Find("r1", kAlgEs256), nullptr);
  EXPECT_EQ(jwks->Find("e1", kAlgRs256), nullptr);
  EXPECT_EQ(jwks->Find("", kAlgRs256), nullptr);
  EXPECT_EQ(jwks->KeysFor(kAlgRs256).size(), 2u);
  EXPECT_EQ(jwks->KeysFor(kAlgEs256).size(), 1u);
  EXPECT_TRUE(jwks->KeysFor("HS256").empty());
}

TEST(JwksTest, SkipsAndCountsUnsupportedKeys) {
  absl::StatusOr<Jwks> jwks = Jwks::Parse(JwksOf({
      R"({"kty":"oct","kid":"h1","k":"c2VjcmV0"})",
      R"({"kty":"OKP","crv":"Ed25519","kid":"o1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})",
      R"({"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"})",
      RsaJwk(SharedRsaKey(), "r512", R"(,"alg":"RS512")"),
      RsaJwk(SharedRsaKey(), "renc", R"(,"use":"enc")"),
      RsaJwk(SharedRsaKey(), "rops", R"(,"key_ops":["encrypt"])"),
      EcJwk(SharedP256Key(), "eps", R"(,"alg":"RS256")"),
      R"({"kid":"nokty"})",
      EcJwk(SharedP256Key(), "good"),
  }));
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_EQ(jwks->size(), 1u);
  EXPECT_EQ(jwks->skipped(), 8u);
  EXPECT_NE(jwks->Find("good", kAlgEs256), nullptr);
  EXPECT_EQ(jwks->Find("r512", kAlgRs256), nullptr);
}

TEST(JwksTest, RefusesADocumentWithoutUsableKeys) {
  ExpectInvalid(Jwks::Parse(JwksOf({R"({"kty":"oct","k":"c2VjcmV0"})"})),
                "no usable key (1 skipped)");
  ExpectInvalid(Jwks::Parse(R"({"keys":[]})"), "no usable key (0 skipped)");
  ExpectInvalid(Jwks::Parse(R"({"kty":"RSA"})"), "no \"keys\" array");
  ExpectInvalid(Jwks::Parse(R"({"keys":{}})"), "no \"keys\" array");
  ExpectInvalid(Jwks::Parse(R"({"keys":[42]})"), "keys[0] is not a JSON object");
}

TEST(JwksTest, RefusesRsaKeysUnder2048Bits) {
  EvpPkeyPtr small = GenerateRsa(1024);
  ExpectInvalid(Jwks::Parse(JwksOf({EcJwk(SharedP256Key(), "e1"), RsaJwk(small.get(), "old")})),
                "keys[1] (kid \"old\") has a 1024-bit modulus");
}

TEST(JwksTest, RefusesMalformedJson) {
  ExpectInvalid(Jwks::Parse(R"({"keys":[)"), "not a JSON object");
  ExpectInvalid(Jwks::Parse(""), "not a JSON object");
  ExpectInvalid(Jwks::Parse("[1,2]"), "not a JSON object");
}

TEST(JwksTest, RefusesBrokenKeysOfSupportedKinds) {
  ExpectInvalid(Jwks::Parse(JwksOf({R"({"kty":"RSA","kid":"r","e":"AQAB"})"})),
                "keys[0] (kid \"r\") has no string \"n\"");
  ExpectInvalid(Jwks::Parse(JwksOf({R"({"kty":"RSA","kid":"r","n":"a+b/","e":"AQAB"})"})),
                "\"n\" is not non-empty base64url");
  ExpectInvalid(Jwks::Parse(JwksOf({R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})"})),
                "x and y must be 32 bytes each");
  // (x, x) is not a point of P-256.
  const std::string x =
      Base64UrlEncode(test_keys::BnParam(SharedP256Key(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
  ExpectInvalid(Jwks::Parse(JwksOf({absl::StrCat(R"({"kty":"EC","crv":"P-256","x":")", x,
                                                 R"(","y":")", x, R"("})")})),
                "not on P-256");
  ExpectInvalid(Jwks::Parse(JwksOf({RsaJwk(SharedRsaKey(), "dup"), RsaJwk(SharedRsaKey(), "dup")})),
                "two RS256 keys have kid \"dup\"");
  ExpectInvalid(Jwks::Parse(JwksOf({R"({"kty":"RSA","kid":7,"n":"AQAB","e":"AQAB"})"})),
                "\"kid\" is not a string");
}

// A file in a fresh temporary directory, removed at the end of the test.
class JwksFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-jwks");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }
  std::string Path() const { return dir_->Join("jwks.json"); }
  void Write(const std::string& text) const { std::ofstream(Path()) << text; }

  std::unique_ptr<testing::TempDir> dir_;
};

TEST_F(JwksFileTest, LoadsAFile) {
  Write(JwksOf({EcJwk(SharedP256Key(), "e1")}));
  absl::StatusOr<std::shared_ptr<const Jwks>> jwks = LoadJwksFile(Path());
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  EXPECT_NE((*jwks)->Find("e1", kAlgEs256), nullptr);
}

TEST_F(JwksFileTest, MissingOrInvalidFilesNameThePath) {
  absl::StatusOr<std::shared_ptr<const Jwks>> missing = LoadJwksFile(Path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(errors::Reason(missing.status()), kReasonJwksNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(Path()));
  Write("{not json");
  absl::StatusOr<std::shared_ptr<const Jwks>> invalid = LoadJwksFile(Path());
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr(Path()));
  EXPECT_THAT(invalid.status().message(), HasSubstr("not a JSON object"));
  absl::StatusOr<std::shared_ptr<const Jwks>> directory = LoadJwksFile(dir_->path());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace kelola::auth
