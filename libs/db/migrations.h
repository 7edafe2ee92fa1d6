#pragma once

// Versioned schema migrations, applied at service start.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/db/database.h"

namespace kelola::db {

struct Migration {
  int version = 0;       // strictly increasing, starting at 1
  std::string name;      // short description, stored with the applied version
  std::string sqlite;    // statements for SQLite (may hold several, separated by ';')
  std::string postgres;  // statements for PostgreSQL; empty = `sqlite` with BLOB spelled BYTEA
};

// Applies, in version order, every migration not yet recorded in the
// `schema_migrations` table, each in its own transaction together with its record.
// Safe when several replicas start at once (PostgreSQL: advisory lock; SQLite:
// the write lock). Fails with FAILED_PRECONDITION when the database holds a version
// this binary does not know (a newer schema).
absl::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations);

}  // namespace kelola::db
