#pragma once

// One PostgreSQL server per test binary: a gtest Environment starts it before the first
// test (failing loudly when it cannot) and stops it after the last. Tests create a
// database of their own on it with CreateUniqueDatabase.

#include "libs/testing/postgres_server.h"

namespace kelola::testing {

// The binary's server; nullptr only if its start failed (that failure is reported).
PostgresServer* SharedPostgres();

// Each test's databases on the shared server are dropped when the test ends, and a
// suite's own (made in its SetUpTestSuite) when the suite ends. This keeps the databases the
// calling test has made so far until its suite ends too: state a test builds once and
// leaves for the suite's later tests.
void KeepDatabasesForTheSuite();

}  // namespace kelola::testing
