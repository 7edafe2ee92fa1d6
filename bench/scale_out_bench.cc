// Sales/s through two gateways with three replicas of customer-svc, ledger-svc and
// report-svc against one, on one PostgreSQL and one Redis (libs/testing/scale_out_cluster.h).
// One client thread per customer records sales, alternating the gateways
// (libs/testing/scale_out_load.h). Rounds alternate the two configurations so that drift on
// a shared machine spreads over both; the figures are medians over the rounds:
//
//   1. three replicas: warm up, measure;
//   2. replicas 1 and 2 of every backend killed (SIGKILL); wait until sales pass through
//      both gateways again; warm up, measure one replica;
//   3. replicas 1 and 2 restarted; the next round measures three again once the gateways
//      send sales to every ledger-svc replica.
//
// Failed calls are counted from the start of each measurement's load (warm-up included), not
// while replicas die: those calls may fail with UNAVAILABLE, and the load is not running.
//
//   scripts/bench scale_out
//   build/bench/scale_out_bench --root=. [--rounds=5 --seconds=4 --warmup=2 --clients=8]

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/harness/latency.h"
#include "bench/harness/process_cpu.h"
#include "bench/harness/report.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/scale_out_cluster.h"
#include "libs/testing/scale_out_load.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(int, clients, 8, "client threads, each recording sales on a customer of its own");
ABSL_FLAG(int, rounds, 5, "rounds of three replicas then one; figures are medians over them");
ABSL_FLAG(int, seconds, 4, "measured seconds per configuration and round");
ABSL_FLAG(int, warmup, 2, "warm-up seconds before each measurement");
ABSL_FLAG(bool, durable, true,
          "PostgreSQL with fsync, synchronous_commit and full_page_writes on, as in production "
          "(false: the test harness's server, which has them off)");
ABSL_FLAG(bool, keep_dir, false, "keep the cluster's directory (logs) and print it");

namespace kelola::bench {
namespace {

using testing::Gateway;
using testing::SaleAttempt;
using testing::SaleLoad;
using testing::ScaleOutCluster;
using testing::ServiceProcess;

constexpr char kTenant[] = "toko-skala-bench";
constexpr char kApiKey[] = "so-bench-7d41e0c2b9";
// Replicas 1 and 2 of each backend are killed; replica 0 carries the one-replica runs.
constexpr int kKilled[] = {1, 2};
// Sales in a row each gateway must pass before the killed replicas count as noticed.
constexpr int kProbeSuccesses = 6;

struct Measurement {
  double per_second = 0;
  int64_t failed = 0;  // calls refused from the start of the load, warm-up included
  std::string first_failure;
  LatencySummary latency;            // of the sales acknowledged inside the window
  std::vector<double> ledger_cpu_s;  // CPU each running ledger-svc replica used in the window
};

// The figures of a load's attempts: throughput and latency of those answered in
// [from, until), failures over all of them.
Measurement Summarize(const std::vector<SaleAttempt>& attempts, absl::Time from, absl::Time until) {
  Measurement m;
  LatencyRecorder latencies;
  int64_t acknowledged = 0;
  for (const SaleAttempt& attempt : attempts) {
    if (attempt.code != absl::StatusCode::kOk) {
      if (m.failed++ == 0) {
        m.first_failure =
            absl::StrCat(absl::StatusCodeToString(attempt.code), ": ", attempt.message);
      }
      continue;
    }
    if (attempt.finished < from || attempt.finished >= until) continue;
    ++acknowledged;
    latencies.Add(attempt.latency);
  }
  m.per_second = static_cast<double>(acknowledged) / absl::ToDoubleSeconds(until - from);
  m.latency = latencies.Summarize();
  return m;
}

class ScaleOutBench {
 public:
  ScaleOutBench(ScaleOutCluster& cluster, std::vector<Gateway*> gateways,
                std::vector<std::string> customers)
      : cluster_(cluster), gateways_(std::move(gateways)), customers_(std::move(customers)) {}

  // Runs the load, waits until it goes (and, with every replica up, until each ledger-svc
  // replica takes sales), warms up, measures.
  absl::StatusOr<Measurement> Measure(const std::string& prefix, bool all_replicas) {
    SaleLoad load(gateways_, kApiKey, customers_, prefix);
    load.Start();
    if (!load.WaitForMore(50, absl::Seconds(30))) {
      return absl::DeadlineExceededError(absl::StrCat(prefix, ": the load never got going"));
    }
    if (all_replicas) {
      if (absl::Status s = WaitUntilEveryLedgerWorks(); !s.ok()) return s;
    }
    absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_warmup)));
    const std::vector<std::pair<std::string, pid_t>> ledgers = RunningLedgers();
    const absl::Time from = absl::Now();
    const absl::Time until = from + absl::Seconds(absl::GetFlag(FLAGS_seconds));
    CpuWindow cpu(ledgers, from, until);
    absl::SleepFor(until - absl::Now());
    load.Stop();
    Measurement m = Summarize(load.attempts(), from, until);
    for (const ProcessCpu& process : cpu.Finish()) m.ledger_cpu_s.push_back(process.seconds);
    return m;
  }

  // Kills the replicas and returns how long until sales passed both gateways again.
  absl::StatusOr<absl::Duration> KillReplicas(const std::string& prefix, int64_t* refused) {
    for (int index : kKilled) {
      for (auto* replicas : Backends()) {
        if (absl::Status s = (*replicas)[index]->Kill(); !s.ok()) return s;
      }
    }
    const absl::Time killed = absl::Now();
    for (size_t g = 0; g < gateways_.size(); ++g) {
      if (absl::Status s = WaitForSales(*gateways_[g], absl::StrCat(prefix, "-", g), refused);
          !s.ok())
        return s;
    }
    return absl::Now() - killed;
  }

  absl::Status RestartReplicas() {
    for (int index : kKilled) {
      for (auto* replicas : Backends()) {
        ServiceProcess& process = *(*replicas)[index];
        if (absl::Status s = process.Restart(); !s.ok()) {
          return absl::Status(s.code(), absl::StrCat(s.message(), "\n", process.LogTail()));
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::vector<std::unique_ptr<ServiceProcess>>*> Backends() {
    return {&cluster_.customers, &cluster_.ledgers, &cluster_.reports};
  }

  std::vector<std::pair<std::string, pid_t>> RunningLedgers() {
    std::vector<std::pair<std::string, pid_t>> out;
    for (size_t i = 0; i < cluster_.ledgers.size(); ++i) {
      if (cluster_.ledgers[i]->IsRunning()) {
        out.emplace_back(absl::StrCat("ledger-svc-", i), cluster_.ledgers[i]->pid());
      }
    }
    return out;
  }

  // kProbeSuccesses sales in a row through `gateway`: its round robin has dropped the dead
  // replicas. Refused calls are counted into `refused`.
  absl::Status WaitForSales(Gateway& gateway, const std::string& prefix, int64_t* refused) {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    int in_a_row = 0;
    for (int n = 0; in_a_row < kProbeSuccesses; ++n) {
      if (absl::Now() > give_up) {
        return absl::DeadlineExceededError(absl::StrCat(prefix, ": sales never passed again"));
      }
      auto sold = testing::RecordSale(
          gateway, kApiKey, testing::SaleRequest(absl::StrCat(prefix, "-", n), customers_[0], 1000),
          absl::Seconds(5));
      in_a_row = sold.ok() ? in_a_row + 1 : 0;
      if (!sold.ok()) {
        ++*refused;
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
    return absl::OkStatus();
  }

  // A restarted replica gets calls only once the gateways' channels reconnect to it, after
  // their reconnect backoff: under load, waits until every ledger-svc replica uses at least
  // a fifth of the busiest one's CPU over half a second.
  absl::Status WaitUntilEveryLedgerWorks() {
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (absl::Now() < give_up) {
      const absl::Time from = absl::Now() + absl::Milliseconds(10);
      CpuWindow window(RunningLedgers(), from, from + absl::Milliseconds(500));
      std::vector<ProcessCpu> used = window.Finish();
      double busiest = 0, idlest = 1e9;
      for (const ProcessCpu& p : used) {
        busiest = std::max(busiest, p.seconds);
        idlest = std::min(idlest, p.seconds);
      }
      if (used.size() == cluster_.ledgers.size() && idlest >= busiest / 5) {
        return absl::OkStatus();
      }
    }
    return absl::DeadlineExceededError("a restarted ledger-svc replica never took sales");
  }

  ScaleOutCluster& cluster_;
  const std::vector<Gateway*> gateways_;
  const std::vector<std::string> customers_;
};

struct Round {
  Measurement three, one;
  absl::Duration recovery;  // from the kill until sales passed both gateways again
  int64_t refused = 0;      // calls refused meanwhile
};

absl::StatusOr<std::vector<Round>> RunRounds(ScaleOutBench& bench) {
  std::vector<Round> rounds;
  for (int r = 1; r <= absl::GetFlag(FLAGS_rounds); ++r) {
    Round round;
    auto three = bench.Measure(absl::StrCat("r", r, "-three"), /*all_replicas=*/true);
    if (!three.ok()) return three.status();
    round.three = *std::move(three);
    auto recovery = bench.KillReplicas(absl::StrCat("r", r, "-probe"), &round.refused);
    if (!recovery.ok()) return recovery.status();
    round.recovery = *recovery;
    auto one = bench.Measure(absl::StrCat("r", r, "-one"), /*all_replicas=*/false);
    if (!one.ok()) return one.status();
    round.one = *std::move(one);
    if (absl::Status s = bench.RestartReplicas(); !s.ok()) return s;
    std::fprintf(stderr, "round %d: %.0f sales/s at 3 replicas, %.0f at 1\n", r,
                 round.three.per_second, round.one.per_second);
    rounds.push_back(std::move(round));
  }
  return rounds;
}

std::string CpuCell(const std::vector<double>& seconds) {
  std::vector<std::string> cells;
  for (double s : seconds) cells.push_back(Fixed(s, 2));
  return absl::StrJoin(cells, " / ");
}

ResultRow Row(const std::string& label, const Measurement& m) {
  return {label,
          {{"sales/s", Fixed(m.per_second, 0)},
           {"p50 ms", Fixed(m.latency.p50_ms, 2)},
           {"p99 ms", Fixed(m.latency.p99_ms, 2)},
           {"failed calls", absl::StrCat(m.failed)},
           {"ledger-svc CPU s", CpuCell(m.ledger_cpu_s)}}};
}

// Medians over the rounds of one configuration, as a row.
ResultRow MedianRow(const std::string& label, const std::vector<const Measurement*>& runs,
                    double* median_rate, int64_t* failed) {
  std::vector<double> rates, p50s, p99s;
  *failed = 0;
  for (const Measurement* m : runs) {
    rates.push_back(m->per_second);
    p50s.push_back(m->latency.p50_ms);
    p99s.push_back(m->latency.p99_ms);
    *failed += m->failed;
  }
  *median_rate = Median(rates);
  return {label,
          {{"sales/s", Fixed(*median_rate, 0)},
           {"p50 ms", Fixed(Median(p50s), 2)},
           {"p99 ms", Fixed(Median(p99s), 2)},
           {"failed calls", absl::StrCat(*failed, " in all")},
           {"ledger-svc CPU s", "–"}}};
}

void AddNotes(Report& report, size_t rounds, double three, double one, double ratio, int64_t failed,
              const std::vector<std::string>& recoveries) {
  const char* postgres =
      absl::GetFlag(FLAGS_durable)
          ? "durable: fsync, synchronous_commit and full_page_writes on"
          : "the test harness's: fsync, synchronous_commit and full_page_writes off";
  report.AddNote(absl::StrCat(
      "Two gateways, three replicas of customer-svc, ledger-svc and report-svc on one "
      "PostgreSQL (",
      postgres, ") and one Redis, all on this machine. ", absl::GetFlag(FLAGS_clients),
      " client threads, each on a customer of its own, record credit sales with unique "
      "request_ids, alternating the two gateways call by call. Each round measures three "
      "replicas for ",
      absl::GetFlag(FLAGS_seconds), " s after ", absl::GetFlag(FLAGS_warmup),
      " s of warm-up, kills replicas 1 and 2 of every backend (SIGKILL), waits until ",
      kProbeSuccesses,
      " sales in a row pass each gateway, measures replica 0 alone the same way, and "
      "restarts the killed replicas. sales/s and latency "
      "count the sales acknowledged inside the window; failed calls count every refusal from "
      "the start of a measurement's load, warm-up included; ledger-svc CPU is what each "
      "running ledger-svc replica used inside the window (evidence that the gateways spread "
      "the sales over the replicas). From the kill until sales passed both gateways again, "
      "per round: ",
      absl::StrJoin(recoveries, ", "),
      "; calls refused then are not counted as failures (a client retries them with their "
      "request_id)."));
  const std::string failures =
      failed == 0 ? "no call failed in any measurement"
                  : absl::StrCat(failed, " calls failed in the measurements (see the table)");
  report.AddNote(absl::StrCat(
      "What it shows: median ", Fixed(three, 0), " sales/s at three replicas against ",
      Fixed(one, 0), " at one (ratio ", Fixed(ratio, 2), ", ", rounds, " rounds). On ",
      sysconf(_SC_NPROCESSORS_ONLN),
      " cores more replicas cannot be faster — three share the CPUs one had, "
      "and every process and PostgreSQL run on them too — so the point is that throughput "
      "does not collapse with replicas added and that ",
      failures, "."));
}

void AddRounds(Report& report, const std::vector<Round>& rounds) {
  std::vector<const Measurement*> threes, ones;
  std::vector<std::string> recoveries;
  for (size_t r = 0; r < rounds.size(); ++r) {
    report.AddRow(Row(absl::StrCat("round ", r + 1, ", 3 replicas"), rounds[r].three));
    report.AddRow(Row(absl::StrCat("round ", r + 1, ", 1 replica"), rounds[r].one));
    threes.push_back(&rounds[r].three);
    ones.push_back(&rounds[r].one);
    recoveries.push_back(absl::StrCat(Fixed(absl::ToDoubleSeconds(rounds[r].recovery), 1), " s (",
                                      rounds[r].refused, " refused)"));
  }
  double three = 0, one = 0;
  int64_t failed_three = 0, failed_one = 0;
  report.AddRow(MedianRow("median, 3 replicas", threes, &three, &failed_three));
  report.AddRow(MedianRow("median, 1 replica", ones, &one, &failed_one));
  const double ratio = one > 0 ? three / one : 0;
  report.AddRow({"ratio of the medians, 3 / 1",
                 {{"sales/s", Fixed(ratio, 2)},
                  {"p50 ms", "–"},
                  {"p99 ms", "–"},
                  {"failed calls", "–"},
                  {"ledger-svc CPU s", "–"}}});
  AddNotes(report, rounds.size(), three, one, ratio, failed_three + failed_one, recoveries);
}

// The command to rerun this measurement: scripts/bench with the defaults.
std::string Command() {
  std::vector<std::string> flags;
  auto differs = [&](const char* name, int value, int fallback) {
    if (value != fallback) flags.push_back(absl::StrCat("--", name, "=", value));
  };
  differs("clients", absl::GetFlag(FLAGS_clients), 8);
  differs("rounds", absl::GetFlag(FLAGS_rounds), 5);
  differs("seconds", absl::GetFlag(FLAGS_seconds), 4);
  differs("warmup", absl::GetFlag(FLAGS_warmup), 2);
  if (!absl::GetFlag(FLAGS_durable)) flags.push_back("--durable=false");
  if (flags.empty()) return "scripts/bench scale_out";
  return absl::StrCat("build/bench/scale_out_bench --root=. ", absl::StrJoin(flags, " "));
}

// ServiceProcess finds the services under $KELOLA_BUILD_DIR; outside ctest that is the
// build directory this binary lives in (build/bench/scale_out_bench).
void DefaultBuildDir() {
  if (std::getenv("KELOLA_BUILD_DIR") != nullptr) return;
  const std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  setenv("KELOLA_BUILD_DIR", self.parent_path().parent_path().c_str(), 0);
}

absl::StatusOr<std::unique_ptr<testing::PostgresServer>> StartPostgres() {
  testing::PostgresServerOptions options;
  if (absl::GetFlag(FLAGS_durable)) {
    options.extra_args = {"-c", "fsync=on",           "-c", "synchronous_commit=on",
                          "-c", "full_page_writes=on"};
  }
  return testing::PostgresServer::Start(std::move(options));
}

absl::StatusOr<std::unique_ptr<ScaleOutCluster>> StartCluster(testing::PostgresServer& postgres) {
  testing::ScaleOutOptions options;
  options.dir_prefix = "kelola-bench-scale-out";
  options.api_keys = {{kApiKey, "bench-owner", kTenant, {"owner"}, {}}};
  // The load is about the replicas, not the per-tenant limit (200/s by default).
  options.gateway_args = {"--rate_limit_per_second=1000000", "--rate_limit_burst=1000000"};
  options.postgres = &postgres;
  return ScaleOutCluster::Start(std::move(options));
}

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return 1;
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  DefaultBuildDir();
  auto postgres = StartPostgres();
  if (!postgres.ok()) return Fail("starting PostgreSQL", postgres.status());
  const absl::Time start = absl::Now();
  auto cluster = StartCluster(**postgres);
  if (!cluster.ok()) return Fail("starting the cluster", cluster.status());
  std::fprintf(stderr, "11 processes started in %s\n",
               absl::FormatDuration(absl::Now() - start).c_str());
  if (absl::GetFlag(FLAGS_keep_dir)) {
    (*cluster)->dir->Keep();
    std::fprintf(stderr, "cluster directory: %s\n", (*cluster)->dir->path().c_str());
  }
  std::vector<std::unique_ptr<Gateway>> owned;
  std::vector<Gateway*> gateways;
  for (const auto& process : (*cluster)->gateways) {
    owned.push_back(std::make_unique<Gateway>((*cluster)->Channel(*process)));
    gateways.push_back(owned.back().get());
  }
  auto customers =
      testing::CreateCustomers(gateways, kApiKey, "bench", 5560, absl::GetFlag(FLAGS_clients));
  if (!customers.ok()) return Fail("creating customers", customers.status());
  ScaleOutBench bench(**cluster, gateways, *std::move(customers));
  auto rounds = RunRounds(bench);
  if (!rounds.ok()) {
    (*cluster)->dir->Keep();
    std::fprintf(stderr, "logs kept in %s\n", (*cluster)->dir->path().c_str());
    return Fail("measuring", rounds.status());
  }
  Report report("scale_out", "Scale-out: three replicas against one (PostgreSQL)", Command());
  AddRounds(report, *rounds);
  absl::Status written = report.Write(absl::GetFlag(FLAGS_root));
  return written.ok() ? 0 : Fail("writing the report", written);
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
