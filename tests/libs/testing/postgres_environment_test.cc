// The shared PostgreSQL environment drops the databases a test made once the test has
// ended, and leaves those made for a whole suite (in SetUpTestSuite, or kept by a test). The tests
// of each suite run in the order written (gtest's default); each later test skips when the earlier
// one did not run.
#include "libs/testing/postgres_environment.h"

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace {

namespace kt = ::kelola::testing;

// Whether `name` is a database of the shared server.
bool DatabaseExists(const std::string& name) {
  kt::PostgresServer* server = kt::SharedPostgres();
  PGconn* conn = PQconnectdb(server->UrlFor("postgres").c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const char* values[] = {name.c_str()};
  PGresult* res = PQexecParams(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr,
                               values, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  const bool exists = PQntuples(res) == 1;
  PQclear(res);
  PQfinish(conn);
  return exists;
}

std::string NameOf(const std::string& url) { return url.substr(url.rfind('/') + 1); }

class PostgresEnvironmentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NE(kt::SharedPostgres(), nullptr);
    auto url = kt::SharedPostgres()->CreateUniqueDatabase("suite");
    ASSERT_TRUE(url.ok()) << url.status();
    suite_database_ = new std::string(NameOf(*url));
  }
  static void TearDownTestSuite() {
    delete suite_database_;
    suite_database_ = nullptr;
    delete kept_database_;
    kept_database_ = nullptr;
  }

  static std::string* suite_database_;
  static std::string* test_database_;
  static std::string* kept_database_;
  static PGconn* left_open_;
};

std::string* PostgresEnvironmentTest::suite_database_ = nullptr;
std::string* PostgresEnvironmentTest::test_database_ = nullptr;
std::string* PostgresEnvironmentTest::kept_database_ = nullptr;
PGconn* PostgresEnvironmentTest::left_open_ = nullptr;

TEST_F(PostgresEnvironmentTest, ATestMakesADatabaseAndLeavesASessionOpen) {
  // Made first and kept: state built once for the suite's later tests.
  auto kept = kt::SharedPostgres()->CreateUniqueDatabase("kept_for_the_suite");
  ASSERT_TRUE(kept.ok()) << kept.status();
  kept_database_ = new std::string(NameOf(*kept));
  kt::KeepDatabasesForTheSuite();
  auto url = kt::SharedPostgres()->CreateUniqueDatabase("made_by_a_test");
  ASSERT_TRUE(url.ok()) << url.status();
  test_database_ = new std::string(NameOf(*url));
  EXPECT_TRUE(DatabaseExists(*test_database_));
  // Still connected when the test ends, as a background thread of a test might be.
  left_open_ = PQconnectdb(url->c_str());
  ASSERT_EQ(PQstatus(left_open_), CONNECTION_OK) << PQerrorMessage(left_open_);
}

TEST_F(PostgresEnvironmentTest, TheTestsDatabaseIsGoneAndTheSuitesStays) {
  if (test_database_ == nullptr) GTEST_SKIP() << "runs after the test that makes a database";
  EXPECT_FALSE(DatabaseExists(*test_database_));
  PGresult* res = PQexec(left_open_, "SELECT 1");
  EXPECT_NE(PQresultStatus(res), PGRES_TUPLES_OK) << "its session was ended";
  PQclear(res);
  PQfinish(left_open_);
  left_open_ = nullptr;
  delete test_database_;
  test_database_ = nullptr;
  ASSERT_NE(suite_database_, nullptr);
  EXPECT_TRUE(DatabaseExists(*suite_database_));
  ASSERT_NE(kept_database_, nullptr);
  EXPECT_TRUE(DatabaseExists(*kept_database_));
}

TEST_F(PostgresEnvironmentTest, TheSuitesDatabaseOutlivesEachTest) {
  ASSERT_NE(suite_database_, nullptr);
  EXPECT_TRUE(DatabaseExists(*suite_database_));
}

}  // namespace
