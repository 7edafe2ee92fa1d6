// The common start-up settings: which listen addresses count as loopback, the internal key
// file, and the page-token key that a service listening beyond loopback must be given.

#include "libs/server/startup.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"

namespace kelola::server {
namespace {

TEST(StartupTest, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "[::1]", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "[::]", "10.0.0.5", "128.0.0.1", "example.com", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

// Every peer channel retries a lost connection within a second (gRPC's own backoff grows
// to two minutes): a replica that comes back takes calls again at once.
TEST(StartupTest, PeerChannelsReconnectWithinASecond) {
  grpc::ChannelArguments args = PeerChannelArguments();
  grpc_channel_args c_args = args.c_channel_args();
  std::map<std::string, int> ints;
  std::string policy;
  for (size_t i = 0; i < c_args.num_args; ++i) {
    if (c_args.args[i].type == GRPC_ARG_INTEGER) {
      ints[c_args.args[i].key] = c_args.args[i].value.integer;
    }
    if (c_args.args[i].type == GRPC_ARG_STRING &&
        std::string(c_args.args[i].key) == GRPC_ARG_LB_POLICY_NAME) {
      policy = c_args.args[i].value.string;
    }
  }
  EXPECT_EQ(ints[GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS], 100);
  EXPECT_EQ(ints[GRPC_ARG_MIN_RECONNECT_BACKOFF_MS], 100);
  EXPECT_EQ(ints[GRPC_ARG_MAX_RECONNECT_BACKOFF_MS], 1000);
  EXPECT_EQ(policy, "round_robin");
}

// The files of a test are written to a temporary directory. A death test's child (the
// threadsafe style runs the test again in a new process, which then exits without tearing
// down) uses its parent's directory, named in the environment, so that it leaves none of
// its own behind.
class StartupFileTest : public ::testing::Test {
 protected:
  static constexpr char kParentDirEnv[] = "KELOLA_STARTUP_TEST_DIR";

  void SetUp() override {
    if (const char* parent = std::getenv(kParentDirEnv); parent != nullptr) {
      path_ = parent;
      return;
    }
    auto dir = testing::TempDir::Create("kelola-startup");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    path_ = dir_->path();
    setenv(kParentDirEnv, path_.c_str(), 1);
  }
  void TearDown() override {
    if (dir_ != nullptr) unsetenv(kParentDirEnv);
  }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(Join(name)) << text;
    return Join(name);
  }
  std::unique_ptr<testing::TempDir> dir_;  // null in a death test's child
  std::string path_;
};

TEST_F(StartupFileTest, InternalKeyFile) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  auto read = ReadInternalKey(Write("ok", "# the internal key\n\n  " + key + "  \n"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, key);
  EXPECT_FALSE(ReadInternalKey(Join("missing")).ok());
  EXPECT_FALSE(ReadInternalKey(Write("empty", "# nothing\n")).ok());
  EXPECT_FALSE(ReadInternalKey(Write("short", "too short\n")).ok());
  EXPECT_FALSE(ReadInternalKey(Write("two", key + "\n" + key + "\n")).ok());
  EXPECT_FALSE(ReadInternalKey(Write("space", "0123456789abcdef 0123456789abcdef\n")).ok());
  EXPECT_FALSE(ReadInternalKey(Write("binary", key + "\x01\xff\n")).ok());
}

// InitService in a child process (it reads the process's flags and may exit).
void Start(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string name = "test-svc";
  argv.push_back(name.data());
  std::string trust = "--trust_tenant_header";
  argv.push_back(trust.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  InitService(static_cast<int>(argv.size()), argv.data(), "test-svc", "test-svc [flags]");
  std::exit(0);
}

// The development page-token secret is public: a service reachable from other machines
// refuses to start with it unless told to accept it.
TEST_F(StartupFileTest, PageTokenKeyIsRequiredBeyondLoopback) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(Start({"--listen=0.0.0.0:0"}), ::testing::ExitedWithCode(2),
              "--page_token_key_file.*loopback");
  EXPECT_EXIT(Start({"--listen=10.1.2.3:0"}), ::testing::ExitedWithCode(2),
              "--page_token_key_file");
  EXPECT_EXIT(Start({"--listen=0.0.0.0:0", "--allow_development_page_token_key"}),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(Start({"--listen=127.0.0.1:0"}), ::testing::ExitedWithCode(0), "");
  const std::string key_file = Write("page", std::string(32, 'p') + "\n");
  EXPECT_EXIT(Start({"--listen=0.0.0.0:0", "--page_token_key_file=" + key_file}),
              ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace kelola::server
