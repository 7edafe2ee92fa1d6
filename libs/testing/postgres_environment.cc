#include "libs/testing/postgres_environment.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

// The databases a suite keeps until it ends: those made before its first test (in its
// SetUpTestSuite) and those a test kept for it (KeepDatabasesForTheSuite).
ABSL_CONST_INIT absl::Mutex suite_mu(absl::kConstInit);
std::vector<std::string>* suite_databases ABSL_GUARDED_BY(suite_mu) = new std::vector<std::string>;

void KeepForTheSuite(std::vector<std::string> names) {
  absl::MutexLock lock(&suite_mu);
  suite_databases->insert(suite_databases->end(), names.begin(), names.end());
}

void Drop(const std::vector<std::string>& names, const std::string& whose) {
  for (const std::string& name : names) {
    if (absl::Status s = shared->DropDatabase(name); !s.ok()) {
      std::fprintf(stderr, "warning: %s left its database %s: %s\n", whose.c_str(), name.c_str(),
                   s.ToString().c_str());
    }
  }
}

// Drops the databases a test made once it has ended (its fixture, and the services the
// fixture started, are gone by then), and a suite's own once the suite has ended (after its
// TearDownTestSuite). A binary of a hundred PostgreSQL cases otherwise holds a hundred
// databases, each a copy of template1 plus what the test wrote, until it exits.
class DropTestDatabases final : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    if (shared != nullptr) KeepForTheSuite(shared->TakeCreatedDatabases());
  }
  void OnTestEnd(const ::testing::TestInfo& test) override {
    if (shared == nullptr) return;
    Drop(shared->TakeCreatedDatabases(), absl::StrCat(test.test_suite_name(), ".", test.name()));
  }
  void OnTestSuiteEnd(const ::testing::TestSuite& suite) override {
    if (shared == nullptr) return;
    std::vector<std::string> names = shared->TakeCreatedDatabases();  // in TearDownTestSuite
    {
      absl::MutexLock lock(&suite_mu);
      names.insert(names.end(), suite_databases->begin(), suite_databases->end());
      suite_databases->clear();
    }
    Drop(names, suite.name());
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
  if (shared != nullptr) KeepForTheSuite(shared->TakeCreatedDatabases());
}

}  // namespace kelola::testing
