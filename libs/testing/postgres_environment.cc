#include "libs/testing/postgres_environment.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace kelola::testing {
namespace {

PostgresServer* shared = nullptr;

class PostgresEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    shared = server_.get();
  }
  void TearDown() override {
    shared = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<PostgresServer> server_;
};

// Drops the databases a test made once it has ended (its fixture, and the services the
// fixture started, are gone by then). A binary of a hundred PostgreSQL cases otherwise
// holds a hundred databases, each a copy of template1 plus what the test wrote, until it
// exits. Databases made before a test (a suite's SetUpTestSuite), and those a test keeps
// for the suite (KeepDatabasesForTheSuite), are left.
class DropTestDatabases final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    if (shared != nullptr) shared->TakeCreatedDatabases();
  }
  void OnTestEnd(const ::testing::TestInfo& test) override {
    if (shared == nullptr) return;
    for (const std::string& name : shared->TakeCreatedDatabases()) {
      if (absl::Status s = shared->DropDatabase(name); !s.ok()) {
        std::fprintf(stderr, "warning: %s.%s left its database %s: %s\n", test.test_suite_name(),
                     test.name(), name.c_str(), s.ToString().c_str());
      }
    }
  }
};

::testing::Environment* Register() {
  ::testing::UnitTest::GetInstance()->listeners().Append(new DropTestDatabases);
  return ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);
}

// Registered when this file is linked, which SharedPostgres() makes sure of.
const auto* const kEnvironment = Register();

}  // namespace

PostgresServer* SharedPostgres() { return shared; }

void KeepDatabasesForTheSuite() {
  if (shared != nullptr) shared->TakeCreatedDatabases();
}

}  // namespace kelola::testing
