#pragma once

// The PostgreSQL driver (libpq). Use db::Open("postgres://...") rather than calling
// this directly.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/db/database.h"

namespace kelola::db {

// Connects to the PostgreSQL server named by the libpq URI `url`. One connection is
// opened at once (so an unreachable server is UNAVAILABLE here, within
// options.connect_timeout); the others are opened when first needed.
absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(absl::string_view url,
                                                       const DatabaseOptions& options = {});

// Rewrites `?` placeholders to `$1`, `$2`, ... Question marks inside string literals
// ('...', E'...'), quoted identifiers ("..."), dollar-quoted strings ($tag$...$tag$) and
// comments (-- and /* */) are left alone. Sets *count to the number of placeholders.
std::string RewritePlaceholders(absl::string_view sql, int* count);

}  // namespace kelola::db
