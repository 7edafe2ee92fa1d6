#pragma once

// Statements on a raw sqlite3 connection, for tests of the SQLite pieces below the driver.

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"

namespace kelola::db {

// Runs `sql` (no results wanted); a failure fails the test with SQLite's message.
inline void ExecRaw(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
}

}  // namespace kelola::db
