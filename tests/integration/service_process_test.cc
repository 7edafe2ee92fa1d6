// The service binaries as real processes: start on SQLite and on PostgreSQL, survive
// kill -9 and restart on the same database, stop cleanly on SIGTERM.

#include "libs/testing/service_process.h"

#include "absl/strings/str_cat.h"
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
  auto report =
      ServiceProcess::Start({"report-svc",
                             {"--db=sqlite:" + d + "/r.db", "--ledger=" + (*ledger)->address(),
                              "--customer=" + (*customer)->address()},
                             d});
  ASSERT_TRUE(report.ok()) << report.status();
  // Redis is not running at all: the gateway is still ready (the cache is optional).
  auto gateway = ServiceProcess::Start(
      {"gateway",
       {"--customer=" + (*customer)->address(), "--ledger=" + (*ledger)->address(),
        "--report=" + (*report)->address(), "--redis=redis://127.0.0.1:1"},
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

}  // namespace
}  // namespace kelola::testing
