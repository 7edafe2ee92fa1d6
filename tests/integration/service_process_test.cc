// The service binaries as real processes: start on SQLite and on PostgreSQL, survive
// kill -9 and restart on the same database, stop cleanly on SIGTERM.

#include "libs/testing/service_process.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {
namespace {

TEST(ServiceProcessTest, DataServicesRestartAfterKillOnSqliteAndPostgres) {
  auto dir = TempDir::Create("kelola-services");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto pg_url = (*postgres)->CreateUniqueDatabase("ledger");
  ASSERT_TRUE(pg_url.ok()) << pg_url.status();

  for (const std::string& db : {absl::StrCat("sqlite:", (*dir)->path(), "/ledger.db"), *pg_url}) {
    SCOPED_TRACE(db);
    auto ledger = ServiceProcess::Start(
        {"ledger-svc", {"--db=" + db, "--customer=127.0.0.1:1"}, (*dir)->path()});
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ASSERT_TRUE((*ledger)->Kill().ok());
    EXPECT_FALSE((*ledger)->IsRunning());
    // The schema is already there: the second start applies no migration and serves.
    ASSERT_TRUE((*ledger)->Restart().ok()) << (*ledger)->LogTail();
    EXPECT_TRUE((*ledger)->Stop().ok()) << (*ledger)->LogTail();
  }
}

// SIGTERM is a graceful shutdown of customer-svc: exit status 0, whether its event consumer
// is streaming from a live ledger-svc or retrying a ledger that is down, on SQLite and
// PostgreSQL.
TEST(ServiceProcessTest, CustomerServiceStopsCleanlyWithItsLedgerUpOrDown) {
  auto dir = TempDir::Create("kelola-services");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string d = (*dir)->path();
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto customer_pg = (*postgres)->CreateUniqueDatabase("customer");
  ASSERT_TRUE(customer_pg.ok()) << customer_pg.status();
  auto ledger_pg = (*postgres)->CreateUniqueDatabase("ledger");
  ASSERT_TRUE(ledger_pg.ok()) << ledger_pg.status();

  struct Case {
    std::string customer_db, ledger_db;
  };
  for (const Case& c :
       {Case{"sqlite:" + d + "/c.db", "sqlite:" + d + "/l.db"}, Case{*customer_pg, *ledger_pg}}) {
    SCOPED_TRACE(c.customer_db);
    // The ledger is down: the consumer keeps retrying until the stop.
    auto alone = ServiceProcess::Start(
        {"customer-svc", {"--db=" + c.customer_db, "--ledger=127.0.0.1:1"}, d});
    ASSERT_TRUE(alone.ok()) << alone.status();
    absl::SleepFor(absl::Milliseconds(500));
    EXPECT_TRUE((*alone)->Stop().ok()) << (*alone)->LogTail();

    // The ledger is up: the consumer streams its events when the stop comes.
    auto customer = ServiceProcess::Start(
        {"customer-svc", {"--db=" + c.customer_db, "--ledger=127.0.0.1:1"}, d});
    ASSERT_TRUE(customer.ok()) << customer.status();
    ASSERT_TRUE((*customer)->Stop().ok()) << (*customer)->LogTail();
    auto ledger =
        ServiceProcess::Start({"ledger-svc", {"--db=" + c.ledger_db, "--customer=127.0.0.1:1"}, d});
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    auto connected = ServiceProcess::Start(
        {"customer-svc", {"--db=" + c.customer_db, "--ledger=" + (*ledger)->address()}, d});
    ASSERT_TRUE(connected.ok()) << connected.status();
    absl::SleepFor(absl::Seconds(1));
    EXPECT_TRUE((*connected)->Stop().ok()) << (*connected)->LogTail();
    EXPECT_TRUE((*ledger)->Stop().ok()) << (*ledger)->LogTail();

    // A ledger streams customer-svc's events (WatchEvents open) when the stop comes.
    auto watched = ServiceProcess::Start(
        {"customer-svc", {"--db=" + c.customer_db, "--ledger=127.0.0.1:1"}, d});
    ASSERT_TRUE(watched.ok()) << watched.status();
    auto watcher = ServiceProcess::Start(
        {"ledger-svc", {"--db=" + c.ledger_db, "--customer=" + (*watched)->address()}, d});
    ASSERT_TRUE(watcher.ok()) << watcher.status();
    absl::SleepFor(absl::Seconds(1));
    // Killed and back on the same port (the ledger's stream reconnects), then stopped.
    ASSERT_TRUE((*watched)->Kill().ok());
    ASSERT_TRUE((*watched)->Restart().ok()) << (*watched)->LogTail();
    absl::SleepFor(absl::Milliseconds(1500));
    EXPECT_TRUE((*watched)->Stop().ok()) << (*watched)->LogTail();
    EXPECT_TRUE((*watcher)->Stop().ok()) << (*watcher)->LogTail();
  }
}

// report-svc on SQLite in `dir`, following `ledger` and `customer`.
absl::StatusOr<std::unique_ptr<ServiceProcess>> StartReportSvc(const std::string& dir,
                                                               const ServiceProcess& ledger,
                                                               const ServiceProcess& customer) {
  return ServiceProcess::Start({"report-svc",
                                {"--db=sqlite:" + dir + "/r.db", "--ledger=" + ledger.address(),
                                 "--customer=" + customer.address()},
                                dir});
}

TEST(ServiceProcessTest, GatewayIsReadyOnlyWithItsBackends) {
  auto dir = TempDir::Create("kelola-services");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string d = (*dir)->path();
  auto customer = ServiceProcess::Start(
      {"customer-svc", {"--db=sqlite:" + d + "/c.db", "--ledger=127.0.0.1:1"}, d});
  ASSERT_TRUE(customer.ok()) << customer.status();
  auto ledger = ServiceProcess::Start(
      {"ledger-svc", {"--db=sqlite:" + d + "/l.db", "--customer=" + (*customer)->address()}, d});
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto report = StartReportSvc(d, **ledger, **customer);
  ASSERT_TRUE(report.ok()) << report.status();
  // Redis is not running at all: the gateway is still ready (the cache is optional).
  std::ofstream(d + "/internal.key") << "0123456789abcdef0123456789abcdef0123456789abcdef\n";
  std::ofstream(d + "/api-keys.jsonl") << "";
  auto gateway = ServiceProcess::Start(
      {"gateway",
       {"--customer=" + (*customer)->address(), "--ledger=" + (*ledger)->address(),
        "--report=" + (*report)->address(), "--redis=redis://127.0.0.1:1",
        "--internal_key_file=" + d + "/internal.key", "--api_keys_file=" + d + "/api-keys.jsonl"},
       d});
  ASSERT_TRUE(gateway.ok()) << gateway.status();

  ASSERT_TRUE((*report)->Kill().ok());
  // Without report-svc the gateway reports NOT_SERVING, and SERVING again once it is back.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (WaitForServing((*gateway)->address(), absl::Milliseconds(100)).ok() &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_FALSE(WaitForServing((*gateway)->address(), absl::Milliseconds(100)).ok());
  ASSERT_TRUE((*report)->Restart().ok());
  EXPECT_TRUE(WaitForServing((*gateway)->address(), absl::Seconds(15)).ok());
}

// The threads a service starts of its own carry names (libs/threads), as `top -H` and a
// profile show them: the writers, the checkpointer, each event stream's reader and applier.
std::set<std::string> ThreadNames(pid_t pid) {
  std::set<std::string> names;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"))) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

TEST(ServiceProcessTest, ThreadsOfTheServicesOwnCarryNames) {
  auto dir = TempDir::Create("kelola-services");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string d = (*dir)->path();
  auto ledger = ServiceProcess::Start(
      {"ledger-svc", {"--db=sqlite:" + d + "/l.db", "--customer=127.0.0.1:1"}, d});
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  auto customer = ServiceProcess::Start(
      {"customer-svc", {"--db=sqlite:" + d + "/c.db", "--ledger=" + (*ledger)->address()}, d});
  ASSERT_TRUE(customer.ok()) << customer.status();
  auto report = StartReportSvc(d, **ledger, **customer);
  ASSERT_TRUE(report.ok()) << report.status();

  // The names missing from a process. Every thread named here starts before the service
  // answers, but names itself a moment after it starts: the names are waited for.
  auto missing_threads = [](pid_t pid, const std::vector<std::string>& names) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::set<std::string> seen = ThreadNames(pid);
    auto missing = [&] {
      std::string out;
      for (const std::string& name : names) {
        if (!seen.count(name)) absl::StrAppend(&out, out.empty() ? "" : ", ", name);
      }
      return out;
    };
    while (!missing().empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      seen = ThreadNames(pid);
    }
    return missing();
  };
  EXPECT_EQ(missing_threads((*ledger)->pid(), {"group-commit", "sqlite-ckpt", "directory-read",
                                               "directory-apply", "readiness"}),
            "");
  EXPECT_EQ(
      missing_threads((*customer)->pid(), {"group-commit", "sqlite-ckpt", "index-loader",
                                           "op-resumer", "stats-read", "stats-apply", "readiness"}),
      "");
  // report-svc follows two streams; each consumer's threads say which.
  EXPECT_EQ(missing_threads((*report)->pid(), {"cards-read", "cards-apply", "customers-read",
                                               "customers-apply", "fact-loader", "readiness"}),
            "");
  EXPECT_TRUE((*report)->Stop().ok()) << (*report)->LogTail();
  EXPECT_TRUE((*customer)->Stop().ok()) << (*customer)->LogTail();
  EXPECT_TRUE((*ledger)->Stop().ok()) << (*ledger)->LogTail();
}

}  // namespace
}  // namespace kelola::testing
