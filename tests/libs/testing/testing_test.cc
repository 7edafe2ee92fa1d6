// Tests of the test harness itself: temp dirs, ports, processes, PostgreSQL, Redis.

#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/testing/free_port.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/process.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/temp_dir.h"

namespace {

namespace kt = ::kelola::testing;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status _status = (expr);  \
    ASSERT_TRUE(_status.ok()) << _status; \
  } while (0)

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(TempDirTest, CreatesAndRemovesRecursively) {
  std::string path;
  {
    absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("harness");
    ASSERT_TRUE(dir.ok()) << dir.status();
    path = (*dir)->path();
    EXPECT_TRUE(absl::StartsWith(path, kt::TempRoot() + "/harness.")) << path;
    ASSERT_EQ(mkdir((*dir)->Join("a").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((*dir)->Join("a/b").c_str(), 0700), 0);
    std::ofstream((*dir)->Join("a/b/file.txt")) << "data";
    EXPECT_TRUE(Exists((*dir)->Join("a/b/file.txt")));
  }
  EXPECT_FALSE(Exists(path));
}

TEST(FreePortTest, ReturnsDistinctUsablePorts) {
  absl::StatusOr<int> a = kt::PickFreePort();
  absl::StatusOr<int> b = kt::PickFreePort();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(*a, 0);
  EXPECT_LT(*a, 65536);
  EXPECT_NE(*a, *b);
}

TEST(ProcessTest, ReportsExitCodeAndCapturesOutputAndEnv) {
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("proc");
  ASSERT_TRUE(dir.ok()) << dir.status();
  kt::ProcessOptions options;
  options.argv = {"sh", "-c", "echo out=$KELOLA_TEST_VAR; echo err >&2; exit 3"};
  options.env = {{"KELOLA_TEST_VAR", "สวัสดี"}};
  options.log_path = (*dir)->Join("log.txt");
  absl::StatusOr<std::unique_ptr<kt::Process>> p = kt::Process::Start(options);
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<kt::ExitStatus> exit = (*p)->Wait(absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited());
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_FALSE((*p)->IsRunning());
  const std::string log = ReadAll(options.log_path);
  EXPECT_TRUE(absl::StrContains(log, "out=สวัสดี")) << log;
  EXPECT_TRUE(absl::StrContains(log, "err")) << log;
  EXPECT_EQ((*p)->LogTail(4), "err\n");
}

TEST(ProcessTest, KillAndWaitWithTimeout) {
  kt::ProcessOptions options;
  options.argv = {"sleep", "30"};
  absl::StatusOr<std::unique_ptr<kt::Process>> p = kt::Process::Start(options);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE((*p)->IsRunning());
  absl::StatusOr<kt::ExitStatus> exit = (*p)->Wait(absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(exit.status())) << exit.status();
  ASSERT_OK((*p)->Kill(SIGTERM));
  exit = (*p)->Wait(absl::Seconds(5));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->signal, SIGTERM);
  EXPECT_FALSE(exit->success());
  EXPECT_FALSE((*p)->IsRunning());
  EXPECT_TRUE(absl::IsFailedPrecondition((*p)->Kill(SIGTERM)));
}

TEST(ProcessTest, RunsInItsOwnProcessGroupAndDestructorKillsIt) {
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("proc");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string pid_file = (*dir)->Join("grandchild.pid");
  pid_t grandchild = 0;
  {
    kt::ProcessOptions options;
    // The shell ignores SIGTERM, so the destructor has to escalate to SIGKILL of the
    // group, which also reaches the grandchild.
    options.argv = {"sh", "-c",
                    absl::StrCat("trap '' TERM; sleep 60 & echo $! > ", pid_file, "; wait")};
    options.stop_timeout = absl::Milliseconds(300);
    absl::StatusOr<std::unique_ptr<kt::Process>> p = kt::Process::Start(options);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(getpgid((*p)->pid()), (*p)->pid());
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (ReadAll(pid_file).empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadAll(pid_file)), &grandchild));
    EXPECT_EQ(getpgid(grandchild), (*p)->pid());
    const absl::Time start = absl::Now();
    p->reset();
    EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  }
  // The grandchild is not our child: it is gone once kill() reports ESRCH (it may be a
  // zombie for a moment until init reaps it).
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  bool gone = false;
  while (absl::Now() < deadline) {
    if (kill(grandchild, 0) != 0) {
      gone = true;
      break;
    }
    std::ifstream stat_file(absl::StrCat("/proc/", grandchild, "/stat"));
    std::string pid, comm, state;
    stat_file >> pid >> comm >> state;
    if (state == "Z") {
      gone = true;
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

TEST(ProcessTest, MissingProgramIsAnError) {
  kt::ProcessOptions options;
  options.argv = {"/nonexistent/kelola-no-such-binary"};
  EXPECT_FALSE(kt::Process::Start(options).ok());
  options.argv = {"kelola-no-such-binary-on-path"};
  EXPECT_TRUE(absl::IsNotFound(kt::Process::Start(options).status()));
}

TEST(ProcessTest, RunsAsAnotherUserWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<std::unique_ptr<kt::TempDir>> dir = kt::TempDir::Create("proc");
  ASSERT_TRUE(dir.ok()) << dir.status();
  kt::ProcessOptions options;
  options.argv = {"id", "-un"};
  options.run_as_user = "nobody";
  options.log_path = (*dir)->Join("id.txt");
  absl::StatusOr<kt::ExitStatus> exit = kt::RunToCompletion(options, absl::Seconds(10));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->success());
  EXPECT_EQ(ReadAll(options.log_path), "nobody\n");
}

TEST(RedisServerTest, StartPingStopRestart) {
  absl::StatusOr<std::unique_ptr<kt::RedisServer>> redis = kt::RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  kt::RedisServer& r = **redis;
  EXPECT_EQ(r.url(), absl::StrCat("redis://127.0.0.1:", r.port()));
  ASSERT_OK(r.Ping());
  absl::StatusOr<std::string> reply = r.Command("SET k v");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "+OK");

  ASSERT_OK(r.Stop());
  EXPECT_FALSE(r.IsRunning());
  EXPECT_TRUE(absl::IsUnavailable(r.Ping(absl::Milliseconds(200))));

  ASSERT_OK(r.Restart());
  ASSERT_OK(r.Ping());
  reply = r.Command("GET k");  // Nothing persisted.
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "$-1");

  ASSERT_OK(r.Pause());
  EXPECT_FALSE(r.Ping(absl::Milliseconds(200)).ok());
  ASSERT_OK(r.Resume());
  ASSERT_OK(r.Ping());

  ASSERT_OK(r.Kill());
  EXPECT_FALSE(r.IsRunning());
  ASSERT_OK(r.Restart());
  ASSERT_OK(r.Ping());
}

TEST(ServersTest, MissingBinariesAreFailedPreconditionNamingThePackage) {
  kt::PostgresServerOptions pg_options;
  pg_options.bin_dir = "/nonexistent/postgresql/bin";
  absl::StatusOr<std::unique_ptr<kt::PostgresServer>> pg = kt::PostgresServer::Start(pg_options);
  EXPECT_TRUE(absl::IsFailedPrecondition(pg.status())) << pg.status();
  EXPECT_TRUE(absl::StrContains(pg.status().message(), "postgresql")) << pg.status();

  kt::RedisServerOptions redis_options;
  redis_options.binary = "kelola-no-such-redis-server";
  absl::StatusOr<std::unique_ptr<kt::RedisServer>> redis = kt::RedisServer::Start(redis_options);
  EXPECT_TRUE(absl::IsFailedPrecondition(redis.status())) << redis.status();
  EXPECT_TRUE(absl::StrContains(redis.status().message(), "redis-server")) << redis.status();
}

TEST(PostgresServerTest, StartCreateDatabaseConnect) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<kt::PostgresServer>> pg = kt::PostgresServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  std::fprintf(stderr, "postgres started in %s\n",
               absl::FormatDuration(absl::Now() - start).c_str());
  kt::PostgresServer& server = **pg;
  const std::string data_dir = server.data_dir();
  EXPECT_EQ(server.url(), absl::StrCat("postgres://kelola@127.0.0.1:", server.port(), "/kelola"));

  absl::StatusOr<std::string> url = server.CreateDatabase("harness_one");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(absl::IsInvalidArgument(server.CreateDatabase("Bad-Name").status()));
  EXPECT_FALSE(server.CreateDatabase("harness_one").ok());  // Already exists.
  absl::StatusOr<std::string> unique = server.CreateUniqueDatabase("Some Test/Name");
  ASSERT_TRUE(unique.ok()) << unique.status();

  for (const std::string& u : {*url, *unique, server.url()}) {
    PGconn* conn = PQconnectdb(u.c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << u << ": " << PQerrorMessage(conn);
    PGresult* res = PQexec(conn, "SELECT current_user, current_setting('server_encoding')");
    ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    EXPECT_STREQ(PQgetvalue(res, 0, 0), "kelola");
    EXPECT_STREQ(PQgetvalue(res, 0, 1), "UTF8");
    PQclear(res);
    if (server.ExtensionAvailable("pg_trgm")) {
      res = PQexec(conn, "SELECT similarity('สมชาย ใจดี', 'สมชาย')");
      EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
      if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        EXPECT_GT(std::stod(PQgetvalue(res, 0, 0)), 0.3) << "trigrams of Thai text";
      }
      PQclear(res);
    }
    PQfinish(conn);
  }
  EXPECT_FALSE(server.ExtensionAvailable("no_such_extension"));

  // The databases made are handed over once, then dropped even while a session is open.
  const std::string unique_name = unique->substr(unique->rfind('/') + 1);
  EXPECT_EQ(server.TakeCreatedDatabases(), (std::vector<std::string>{"harness_one", unique_name}));
  EXPECT_TRUE(server.TakeCreatedDatabases().empty());
  PGconn* open = PQconnectdb(url->c_str());
  ASSERT_EQ(PQstatus(open), CONNECTION_OK) << PQerrorMessage(open);
  EXPECT_TRUE(server.DropDatabase("harness_one").ok());
  PGresult* after = PQexec(open, "SELECT 1");
  EXPECT_NE(PQresultStatus(after), PGRES_TUPLES_OK) << "the open session was ended";
  PQclear(after);
  PQfinish(open);
  PGconn* again = PQconnectdb(url->c_str());
  EXPECT_NE(PQstatus(again), CONNECTION_OK) << "harness_one is gone";
  PQfinish(again);
  EXPECT_TRUE(server.DropDatabase("harness_one").ok()) << "dropping a missing database is no error";
  EXPECT_TRUE(absl::IsInvalidArgument(server.DropDatabase("Bad-Name")));
  EXPECT_TRUE(server.CreateDatabase("harness_one").ok()) << "the name is free again";

  pg->reset();
  EXPECT_FALSE(Exists(data_dir));
}

}  // namespace
