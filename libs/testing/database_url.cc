// Separate from suite.cc so that only tests using DatabaseUrl link the shared PostgreSQL
// environment (which starts a server for the whole binary).
#include "absl/strings/str_cat.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/suite.h"

namespace kelola::testing {

absl::StatusOr<std::string> DatabaseUrl(const std::string& driver, const TempDir& dir,
                                        const std::string& name) {
  if (driver == "sqlite") return absl::StrCat("sqlite:", dir.path(), "/", name, ".db");
  if (driver == "postgres") return SharedPostgres()->CreateUniqueDatabase(name);
  return absl::InvalidArgumentError(absl::StrCat("unknown driver ", driver));
}

}  // namespace kelola::testing
