#pragma once

// One PostgreSQL server per test binary: a gtest Environment starts it before the first
// test (failing loudly when it cannot) and stops it after the last. Tests create a
// database of their own on it with CreateUniqueDatabase.

#include "libs/testing/postgres_server.h"

namespace kelola::testing {

// The binary's server; nullptr only if its start failed (that failure is reported).
PostgresServer* SharedPostgres();

}  // namespace kelola::testing
