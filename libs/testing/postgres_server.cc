#include "libs/testing/postgres_server.h"

#include <glob.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/testing/free_port.h"

namespace kelola::testing {
namespace {

constexpr char kPackageHint[] =
    "PostgreSQL is not installed; install the Debian package `postgresql` "
    "(apt-get install postgresql) or set KELOLA_PG_BIN_DIR";

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// "15" < "16"; non-numeric versions sort first.
int VersionOf(const std::string& bin_dir) {
  // .../postgresql/<version>/bin
  std::vector<std::string> parts = absl::StrSplit(bin_dir, '/', absl::SkipEmpty());
  int v = 0;
  if (parts.size() >= 2 && absl::SimpleAtoi(parts[parts.size() - 2], &v)) return v;
  return 0;
}

absl::StatusOr<std::string> FindBinDir(const PostgresServerOptions& options) {
  std::vector<std::string> candidates;
  if (!options.bin_dir.empty()) {
    candidates.push_back(options.bin_dir);
  } else if (const char* env = std::getenv("KELOLA_PG_BIN_DIR"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  } else {
    glob_t g{};
    if (glob("/usr/lib/postgresql/*/bin", GLOB_ONLYDIR, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) candidates.push_back(g.gl_pathv[i]);
    }
    globfree(&g);
    std::sort(candidates.begin(), candidates.end(), [](const std::string& a, const std::string& b) {
      return VersionOf(a) > VersionOf(b);
    });
    // Last resort: initdb on $PATH, and postgres beside it.
    const std::string initdb = FindExecutable("initdb");
    if (!initdb.empty()) {
      char resolved[PATH_MAX];
      if (realpath(initdb.c_str(), resolved) != nullptr) {
        std::string dir = resolved;
        candidates.push_back(dir.substr(0, dir.rfind('/')));
      }
    }
  }
  for (const std::string& dir : candidates) {
    if (IsExecutable(dir + "/initdb") && IsExecutable(dir + "/postgres")) return dir;
  }
  return absl::FailedPreconditionError(kPackageHint);
}

// Whether every directory from / down to `path` can be entered by any user, so that the
// `postgres` user can reach a data directory below it.
bool WorldTraversable(const std::string& path) {
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StrAppend(&prefix, "/", part);
    struct stat st {};
    if (stat(prefix.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
  }
  return true;
}

bool ValidDatabaseName(absl::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(absl::ascii_islower(name[0]) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    PostgresServerOptions options) {
  absl::StatusOr<std::string> bin_dir = FindBinDir(options);
  if (!bin_dir.ok()) return bin_dir.status();
  const absl::Time deadline = absl::Now() + options.start_timeout;

  // PostgreSQL refuses to run as root.
  std::string run_as;
  uid_t pg_uid = 0;
  gid_t pg_gid = 0;
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (pw == nullptr) {
      return absl::FailedPreconditionError(
          "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` "
          "user to run it as; install the Debian package `postgresql` (it creates the user) or "
          "run the tests as a normal user");
    }
    run_as = "postgres";
    pg_uid = pw->pw_uid;
    pg_gid = pw->pw_gid;
  }

  auto server = std::unique_ptr<PostgresServer>(new PostgresServer());
  std::string parent;
  if (!run_as.empty() && !WorldTraversable(TempRoot())) parent = "/tmp";
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kelola-pg", parent);
  if (!dir.ok()) return dir.status();
  server->dir_ = *std::move(dir);
  if (!run_as.empty() && chown(server->dir_->path().c_str(), pg_uid, pg_gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", server->dir_->path(), " to postgres failed"));
  }
  server->data_dir_ = server->dir_->Join("data");
  server->log_path_ = server->dir_->Join("postgres.log");
  const std::string initdb_log = server->dir_->Join("initdb.log");

  // initdb. C.UTF-8 gives Unicode-aware character classes (pg_trgm on Thai text);
  // fall back to C where that locale is missing.
  absl::Status init_status;
  for (const char* locale : {"C.UTF-8", "C"}) {
    ProcessOptions init;
    init.argv = {*bin_dir + "/initdb",
                 "-D",
                 server->data_dir_,
                 "-A",
                 "trust",
                 "-U",
                 kUser,
                 "--encoding=UTF8",
                 absl::StrCat("--locale=", locale),
                 "--no-sync"};
    init.log_path = initdb_log;
    init.run_as_user = run_as;
    init.env = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
    absl::StatusOr<ExitStatus> exit =
        RunToCompletion(std::move(init), std::max(deadline - absl::Now(), absl::Seconds(1)));
    if (exit.ok() && exit->success()) {
      init_status = absl::OkStatus();
      break;
    }
    init_status = absl::InternalError(
        absl::StrCat("initdb failed (",
                     exit.ok() ? absl::StrCat("exit ", exit->exit_code, " signal ", exit->signal)
                               : exit.status().ToString(),
                     "); log tail:\n", ReadFileTail(initdb_log, 3000)));
    RemoveRecursively(server->data_dir_).IgnoreError();
  }
  if (!init_status.ok()) return init_status;

  // Start on a free port; retry with another if someone took it meanwhile.
  const std::string socket_dir = server->dir_->path().size() < 80 ? server->dir_->path() : "";
  absl::Status start_status = absl::UnavailableError("postgres did not start");
  for (int attempt = 0; attempt < 3 && absl::Now() < deadline; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    ProcessOptions run;
    run.argv = {*bin_dir + "/postgres",
                "-D",
                server->data_dir_,
                "-p",
                absl::StrCat(server->port_),
                "-k",
                socket_dir,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "max_connections=200",
                "-c",
                "TimeZone=UTC"};
    run.argv.insert(run.argv.end(), options.extra_args.begin(), options.extra_args.end());
    run.log_path = server->log_path_;
    run.run_as_user = run_as;
    run.env = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
    run.stop_timeout = absl::Seconds(15);
    absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(std::move(run));
    if (!process.ok()) return process.status();
    server->process_ = *std::move(process);

    const std::string conninfo =
        absl::StrCat("host=127.0.0.1 port=", server->port_, " user=", kUser,
                     " dbname=postgres connect_timeout=2");
    bool ready = false;
    while (absl::Now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      if (!server->process_->IsRunning()) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (ready) {
      start_status = absl::OkStatus();
      break;
    }
    const std::string tail = server->LogTail(3000);
    start_status = absl::UnavailableError(
        absl::StrCat("postgres did not accept connections on port ", server->port_, " within ",
                     absl::FormatDuration(options.start_timeout), "; log tail:\n", tail));
    server->process_->Stop(SIGQUIT);
    server->process_.reset();
    if (!absl::StrContains(tail, "could not bind") &&
        !absl::StrContains(tail, "could not create listen socket")) {
      break;
    }
  }
  if (!start_status.ok()) return start_status;

  if (absl::Status s =
          server->Execute("postgres", absl::StrCat("CREATE DATABASE ", kDefaultDatabase));
      !s.ok()) {
    return s;
  }
  for (const std::string& ext : options.extensions) {
    if (!server->ExtensionAvailable(ext)) continue;
    for (const char* db : {"template1", kDefaultDatabase}) {
      if (absl::Status s =
              server->Execute(db, absl::StrCat("CREATE EXTENSION IF NOT EXISTS \"", ext, "\""));
          !s.ok()) {
        return s;
      }
    }
  }
  return server;
}

PostgresServer::~PostgresServer() {
  // SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
  if (process_ != nullptr) process_->Stop(SIGINT);
  process_.reset();
  dir_.reset();
}

std::string PostgresServer::UrlFor(absl::string_view database) const {
  return absl::StrCat("postgres://", kUser, "@", host_, ":", port_, "/", database);
}

absl::Status PostgresServer::Execute(absl::string_view database, absl::string_view sql) {
  const std::string conninfo = absl::StrCat("host=", host_, " port=", port_, " user=", kUser,
                                            " dbname=", database, " connect_timeout=5");
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("cannot connect to ", database, ": ", PQerrorMessage(conn)));
    PQfinish(conn);
    return s;
  }
  const std::string q(sql);
  PGresult* res = PQexec(conn, q.c_str());
  const ExecStatusType st = PQresultStatus(res);
  absl::Status s = absl::OkStatus();
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    s = absl::InternalError(absl::StrCat(
        "postgres (", database,
        "): ", absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(res)), " in: ", sql));
  }
  PQclear(res);
  PQfinish(conn);
  return s;
}

bool PostgresServer::ExtensionAvailable(absl::string_view name) {
  const std::string conninfo = absl::StrCat("host=", host_, " port=", port_, " user=", kUser,
                                            " dbname=postgres connect_timeout=5");
  PGconn* conn = PQconnectdb(conninfo.c_str());
  bool available = false;
  if (PQstatus(conn) == CONNECTION_OK) {
    const std::string n(name);
    const char* values[] = {n.c_str()};
    PGresult* res = PQexecParams(conn, "SELECT 1 FROM pg_available_extensions WHERE name = $1", 1,
                                 nullptr, values, nullptr, nullptr, 0);
    available = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0;
    PQclear(res);
  }
  PQfinish(conn);
  return available;
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase(absl::string_view name) {
  if (!ValidDatabaseName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name \"", name, "\" must match [a-z_][a-z0-9_]{0,62}"));
  }
  absl::MutexLock lock(&mu_);  // CREATE DATABASE copies template1; one at a time.
  if (absl::Status s = Execute("postgres", absl::StrCat("CREATE DATABASE ", name)); !s.ok()) {
    return s;
  }
  created_.emplace_back(name);
  return UrlFor(name);
}

std::vector<std::string> PostgresServer::TakeCreatedDatabases() {
  absl::MutexLock lock(&mu_);
  return std::exchange(created_, {});
}

absl::Status PostgresServer::DropDatabase(absl::string_view name) {
  if (!ValidDatabaseName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name \"", name, "\" must match [a-z_][a-z0-9_]{0,62}"));
  }
  return Execute("postgres", absl::StrCat("DROP DATABASE IF EXISTS ", name, " WITH (FORCE)"));
}

absl::StatusOr<std::string> PostgresServer::CreateUniqueDatabase(absl::string_view prefix) {
  std::string base = absl::AsciiStrToLower(prefix);
  for (char& c : base) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c))) c = '_';
  }
  if (base.empty() || absl::ascii_isdigit(base[0])) base = "db_" + base;
  if (base.size() > 50) base.resize(50);
  int n = 0;
  {
    absl::MutexLock lock(&mu_);
    n = ++next_database_;
  }
  return CreateDatabase(absl::StrCat(base, "_", n));
}

std::string PostgresServer::LogTail(size_t max_bytes) const {
  return ReadFileTail(log_path_, max_bytes);
}

}  // namespace kelola::testing
