// The shared PostgreSQL environment drops the databases a test made once the test has
// ended, and a suite's own (made in SetUpTestSuite, or kept by a test with
// KeepDatabasesForTheSuite) once the suite has ended. The suites and their tests run in the
// order written (gtest's default); a test that looks at what an earlier one left skips when
// that one did not run.
#include "libs/testing/postgres_environment.h"

#include <libpq-fe.h>

#include <string>

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

// What the first suite made, for the tests after it ("" until made).
std::string& SuiteDatabase() {
  static auto* name = new std::string;
  return *name;
}
std::string& KeptDatabase() {
  static auto* name = new std::string;
  return *name;
}
std::string& TestDatabase() {
  static auto* name = new std::string;
  return *name;
}
PGconn* left_open = nullptr;

class PostgresEnvironmentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NE(kt::SharedPostgres(), nullptr);
    auto url = kt::SharedPostgres()->CreateUniqueDatabase("suite");
    ASSERT_TRUE(url.ok()) << url.status();
    SuiteDatabase() = NameOf(*url);
  }
  static void TearDownTestSuite() {
    if (left_open != nullptr) PQfinish(left_open);
    left_open = nullptr;
  }
};

TEST_F(PostgresEnvironmentTest, ATestMakesADatabaseAndLeavesASessionOpen) {
  // Made first and kept: state built once for the suite's later tests.
  auto kept = kt::SharedPostgres()->CreateUniqueDatabase("kept_for_the_suite");
  ASSERT_TRUE(kept.ok()) << kept.status();
  KeptDatabase() = NameOf(*kept);
  kt::KeepDatabasesForTheSuite();
  auto url = kt::SharedPostgres()->CreateUniqueDatabase("made_by_a_test");
  ASSERT_TRUE(url.ok()) << url.status();
  TestDatabase() = NameOf(*url);
  EXPECT_TRUE(DatabaseExists(TestDatabase()));
  // Still connected when the test ends, as a background thread of a test might be.
  left_open = PQconnectdb(url->c_str());
  ASSERT_EQ(PQstatus(left_open), CONNECTION_OK) << PQerrorMessage(left_open);
}

TEST_F(PostgresEnvironmentTest, TheTestsDatabaseIsGoneAndTheSuitesStay) {
  if (TestDatabase().empty()) GTEST_SKIP() << "runs after the test that makes a database";
  EXPECT_FALSE(DatabaseExists(TestDatabase()));
  PGresult* res = PQexec(left_open, "SELECT 1");
  EXPECT_NE(PQresultStatus(res), PGRES_TUPLES_OK) << "its session was ended";
  PQclear(res);
  EXPECT_TRUE(DatabaseExists(SuiteDatabase()));
  EXPECT_TRUE(DatabaseExists(KeptDatabase()));
}

TEST_F(PostgresEnvironmentTest, TheSuitesDatabaseOutlivesEachTest) {
  ASSERT_FALSE(SuiteDatabase().empty());
  EXPECT_TRUE(DatabaseExists(SuiteDatabase()));
}

TEST(PostgresEnvironmentAfterASuiteTest, TheEndedSuitesDatabasesAreGone) {
  if (SuiteDatabase().empty()) GTEST_SKIP() << "runs after PostgresEnvironmentTest";
  EXPECT_FALSE(DatabaseExists(SuiteDatabase()));
  if (!KeptDatabase().empty()) {
    EXPECT_FALSE(DatabaseExists(KeptDatabase()));
  }
}

}  // namespace
