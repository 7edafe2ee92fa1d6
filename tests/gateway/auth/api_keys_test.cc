#include "gateway/auth/api_keys.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/watched_file.h"
#include "gtest/gtest.h"
#include "libs/crypto/hmac.h"
#include "libs/errors/errors.h"
#include "libs/testing/temp_dir.h"

namespace kelola::gateway {
namespace {

std::string Line(const std::string& key, const std::string& name, const std::string& tenant,
                 const std::string& roles, const std::string& extra = "") {
  return absl::StrCat(R"({"key_sha256": ")", crypto::Sha256Hex(key), R"(", "name": ")", name,
                      R"(", "tenant": ")", tenant, R"(", "roles": )", roles, extra, "}\n");
}

TEST(ApiKeysTest, FindsKeysByTheirHashOnly) {
  auto keys = ApiKeys::Parse(
      "# keys of toko-ani\n\n" +
      Line("secret-1", "pos-1", "toko-ani", R"(["cashier"])", R"(, "stores": ["store-1"])") +
      Line("secret-2", "owner", "toko-ani", R"(["owner"])"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)->size(), 2u);
  const auth::Principal* cashier = (*keys)->Find("secret-1");
  ASSERT_NE(cashier, nullptr);
  EXPECT_EQ(cashier->id, "pos-1");
  EXPECT_EQ(cashier->kind, auth::PrincipalKind::kApiKey);
  EXPECT_EQ(cashier->tenant_id, "toko-ani");
  EXPECT_EQ(cashier->roles, std::vector<auth::Role>{auth::Role::kCashier});
  EXPECT_EQ(cashier->stores, std::vector<std::string>{"store-1"});
  EXPECT_EQ((*keys)->Find(crypto::Sha256Hex("secret-1")), nullptr);  // the hash is no key
  EXPECT_EQ((*keys)->Find("secret-3"), nullptr);
  EXPECT_EQ((*keys)->Find(""), nullptr);
}

TEST(ApiKeysTest, BadLinesAreNamed) {
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"not json\n", "line 1: not a JSON object"},
           {R"({"key_sha256": "abc", "name": "x", "tenant": "t", "roles": ["owner"]})", "64 hex"},
           {Line("k", "", "t", R"(["owner"])"), "name"},
           {Line("k", "x", "bad tenant!", R"(["owner"])"), "tenant"},
           {Line("k", "x", "t", R"([])"), "at least one role"},
           {Line("k", "x", "t", R"(["janitor"])"), "unknown role \"janitor\""},
           {Line("k", "x", "t", R"(["owner"])") + Line("k", "y", "t", R"(["owner"])"),
            "line 2: the same key_sha256"},
       }) {
    auto keys = ApiKeys::Parse(c.text);
    ASSERT_FALSE(keys.ok()) << c.text;
    EXPECT_TRUE(absl::StrContains(keys.status().message(), c.says)) << keys.status();
  }
}

// The file is read again when it changes; a broken edit keeps the previous keys in force.
TEST(ApiKeysTest, TheWatchedFileFollowsEditsAndSurvivesBrokenOnes) {
  auto dir = testing::TempDir::Create("kelola-api-keys");
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->Join("keys.jsonl");
  std::ofstream(path) << Line("first", "a", "toko-a", R"(["owner"])");
  FakeClock clock;
  auto file = WatchedFile<ApiKeys>::Open(path, &ApiKeys::Load, clock, absl::Seconds(1));
  ASSERT_TRUE(file.ok()) << file.status();
  Authenticator authenticator(file->get(), nullptr, {}, clock);
  auto call = [&](const std::string& key) {
    Metadata metadata;
    const std::string name = kApiKeyHeader;
    metadata.emplace(grpc::string_ref(name), grpc::string_ref(key));
    return authenticator.Authenticate(metadata);
  };
  EXPECT_TRUE(call("first").ok());
  EXPECT_EQ(errors::Reason(call("second").status()), "API_KEY_INVALID");

  std::ofstream(path) << Line("second", "b", "toko-a", R"(["cashier"])");
  EXPECT_TRUE(call("first").ok());  // not looked at again within the interval
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(errors::Reason(call("first").status()), "API_KEY_INVALID");
  ASSERT_TRUE(call("second").ok());
  EXPECT_EQ((*call("second"))->id, "b");

  std::ofstream(path) << "{half a line";
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(call("second").ok());  // the last good file stays in force
}

TEST(AuthenticatorTest, CredentialsAreCountedAndTheTenantChecked) {
  auto keys = ApiKeys::Parse(Line("k", "a", "toko-a", R"(["owner"])"));
  ASSERT_TRUE(keys.ok());
  FakeClock clock;
  auto dir = testing::TempDir::Create("kelola-authenticator");
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->Join("keys.jsonl");
  std::ofstream(path) << Line("k", "a", "toko-a", R"(["owner"])");
  auto file = WatchedFile<ApiKeys>::Open(path, &ApiKeys::Load, clock, absl::Seconds(1));
  ASSERT_TRUE(file.ok());
  Authenticator authenticator(file->get(), nullptr, {}, clock);
  const std::string key_header = kApiKeyHeader, auth_header = kAuthorizationHeader,
                    tenant_header = "x-kelola-tenant", k = "k", bearer = "Bearer abc",
                    other = "toko-b", same = "toko-a";
  auto with = [&](std::vector<std::pair<const std::string*, const std::string*>> pairs) {
    Metadata metadata;
    for (auto [name, value] : pairs) {
      metadata.emplace(grpc::string_ref(*name), grpc::string_ref(*value));
    }
    return authenticator.Authenticate(metadata);
  };
  EXPECT_EQ(errors::Reason(with({}).status()), "CREDENTIALS_MISSING");
  EXPECT_EQ(errors::Reason(with({{&key_header, &k}, {&auth_header, &bearer}}).status()),
            "CREDENTIALS_AMBIGUOUS");
  EXPECT_EQ(errors::Reason(with({{&auth_header, &bearer}}).status()), "TOKEN_INVALID");
  EXPECT_EQ(errors::Reason(with({{&key_header, &k}, {&tenant_header, &other}}).status()),
            "TENANT_MISMATCH");
  EXPECT_TRUE(with({{&key_header, &k}, {&tenant_header, &same}}).ok());
}

}  // namespace
}  // namespace kelola::gateway
