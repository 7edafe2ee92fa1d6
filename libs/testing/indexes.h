#pragma once

// The indexes a migrated schema holds, read from the database itself on either driver, for
// tests that pin which indexes a service keeps and how they are defined.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/db/database.h"

namespace kelola::testing {

// Name -> definition (CREATE INDEX statement) of every index on `tables`: SQLite's
// sqlite_master, PostgreSQL's pg_indexes of the current schema. The primary keys' and
// unique constraints' own indexes only `with_keys` (SQLite's have no statement: "").
absl::StatusOr<std::map<std::string, std::string>> IndexesOn(db::Database& db,
                                                             const std::vector<std::string>& tables,
                                                             bool with_keys);

}  // namespace kelola::testing
