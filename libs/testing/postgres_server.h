#pragma once

// A throwaway PostgreSQL server for tests: initdb into a temporary directory, start on a
// free loopback port, hand out fresh databases, stop and delete everything at the end.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {

struct PostgresServerOptions {
  // Directory with initdb and postgres. Empty: $KELOLA_PG_BIN_DIR, else the newest
  // /usr/lib/postgresql/<version>/bin.
  std::string bin_dir;
  // Bound on initdb plus startup.
  absl::Duration start_timeout = absl::Seconds(30);
  // Extensions created in template1 when the server has them, so that every database
  // made by CreateDatabase has them too.
  std::vector<std::string> extensions = {"pg_trgm"};
  // Extra server arguments, e.g. {"-c", "log_statement=all"}.
  std::vector<std::string> extra_args;
};

class PostgresServer {
 public:
  // Starts a server. FAILED_PRECONDITION when PostgreSQL is not installed (install the
  // Debian package `postgresql`), or when running as root without a `postgres` user.
  // PostgreSQL refuses to run as root: under root, initdb and postgres run as the
  // `postgres` user, and the data directory is chowned to it.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(PostgresServerOptions options = {});

  // Fast shutdown (SIGINT), then removal of the data directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  static constexpr char kUser[] = "kelola";
  static constexpr char kDefaultDatabase[] = "kelola";

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // postgres://kelola@127.0.0.1:PORT/kelola (the default database).
  std::string url() const { return UrlFor(kDefaultDatabase); }
  std::string UrlFor(absl::string_view database) const;

  // Creates an empty database (with the extensions of the options, when available) and
  // returns its URL. `name`: [a-z_][a-z0-9_]*, at most 63 characters. Thread-safe.
  absl::StatusOr<std::string> CreateDatabase(absl::string_view name);
  // Like CreateDatabase with a generated unique name "<prefix>_<n>".
  absl::StatusOr<std::string> CreateUniqueDatabase(absl::string_view prefix = "test");
  // The names of the databases CreateDatabase made since the last call (the shared
  // environment drops those a test made once it ends).
  std::vector<std::string> TakeCreatedDatabases();
  // Drops `name`, ending its sessions first (DROP DATABASE ... WITH (FORCE)).
  absl::Status DropDatabase(absl::string_view name);

  // Whether the server can CREATE EXTENSION `name` (e.g. "pg_trgm").
  bool ExtensionAvailable(absl::string_view name);
  // Runs SQL (no parameters, results discarded) in `database`, as the superuser.
  absl::Status Execute(absl::string_view database, absl::string_view sql);

  std::string LogTail(size_t max_bytes = 4096) const;
  const std::string& data_dir() const { return data_dir_; }
  // The PostgreSQL server process (e.g. to kill it in fault tests).
  Process& process() { return *process_; }

 private:
  PostgresServer() = default;

  std::unique_ptr<TempDir> dir_;
  std::string data_dir_;
  std::string log_path_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::unique_ptr<Process> process_;
  absl::Mutex mu_;
  int next_database_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> created_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::testing
