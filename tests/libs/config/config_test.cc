#include "libs/config/config.h"

#include <cstdio>
#include <map>
#include <string>

#include "absl/flags/flag.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, config_test_db, "default", "a string setting");
ABSL_FLAG(int, config_test_threads, 4, "an integer setting");

namespace kelola::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> values) {
  auto storage = std::make_shared<std::map<std::string, std::string>>(std::move(values));
  return [storage](const char* name) -> const char* {
    auto it = storage->find(name);
    return it == storage->end() ? nullptr : it->second.c_str();
  };
}

TEST(ConfigTest, EnvNameIsPrefixedUpperCase) {
  EXPECT_EQ(EnvName("metrics_listen"), "KELOLA_METRICS_LISTEN");
}

TEST(ConfigTest, EnvironmentSetsFlags) {
  ASSERT_TRUE(ApplyEnvironment(FakeEnv({{"KELOLA_CONFIG_TEST_DB", "sqlite:x.db"},
                                        {"KELOLA_CONFIG_TEST_THREADS", "12"}}))
                  .ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_db), "sqlite:x.db");
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_threads), 12);
}

TEST(ConfigTest, InvalidValueNamesTheVariable) {
  absl::Status status = ApplyEnvironment(FakeEnv({{"KELOLA_CONFIG_TEST_THREADS", "many"}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("KELOLA_CONFIG_TEST_THREADS"), std::string::npos);
}

TEST(ConfigTest, SecretFromFileWithoutTrailingNewline) {
  const std::string path = ::testing::TempDir() + "/secret.txt";
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("postgres://u:p@h/db\n", file);
  std::fclose(file);
  ASSERT_TRUE(ApplyEnvironment(FakeEnv({{"KELOLA_CONFIG_TEST_DB_FILE", path}})).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_config_test_db), "postgres://u:p@h/db");

  absl::Status missing =
      ApplyEnvironment(FakeEnv({{"KELOLA_CONFIG_TEST_DB_FILE", path + ".missing"}}));
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(missing.message()).find("KELOLA_CONFIG_TEST_DB_FILE"), std::string::npos);
}

TEST(ConfigTest, ParsesHostPort) {
  auto ok = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->host, "127.0.0.1");
  EXPECT_EQ(ok->port, 50051);
  EXPECT_EQ(ok->ToString(), "127.0.0.1:50051");
  auto v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"", "50051", ":80", "host:", "host:99999", "host:-1", "host:http"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kelola::config
