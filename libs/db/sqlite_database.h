#pragma once

// The SQLite driver. Use db::Open("sqlite:PATH") rather than calling this directly.

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/db/database.h"

namespace kelola::db {

// Opens (creating if missing) the SQLite database file at `path`, or a private
// in-memory database when `path` is ":memory:" (then always one connection).
//
// File databases run in WAL mode with `PRAGMA synchronous` from the options,
// busy_timeout and foreign_keys=ON on every connection. Write transactions start with
// BEGIN IMMEDIATE and are serialized inside the process before they touch SQLite (so
// writers queue on a mutex instead of polling in SQLite's busy handler); read-only
// transactions use BEGIN DEFERRED and run concurrently with the writer. With synchronous
// FULL or EXTRA the writer connection writes its log through sqlite_log_buffer.h.
absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(absl::string_view path,
                                                     const DatabaseOptions& options = {});

}  // namespace kelola::db
