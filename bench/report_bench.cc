// report-svc on a large history (issue 10, "Performance"): the real report-svc binary
// follows fake ledger-svc and customer-svc producers (bench/report_feed) that generate one
// tenant's two years of customers, sales and payments while streaming them over
// kelola.events.v1.EventService/WatchEvents, so a history of millions of events loads
// through the real projection code without a real ledger behind it. Measures the catch-up
// rate from sequence 0 to the head, then the read latencies of the report RPCs: summary
// cards at 16 concurrent clients, and the customer report, the receivables report and the
// daily series of one year, each repeated one call at a time. An RPC that answers an error
// is recorded with its status and the run goes on.
//
//   scripts/bench report [sqlite|postgres] [--quick]
//   build/bench/report_bench --driver=sqlite --customers=100000 --sales=10000000

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/harness/calls.h"
#include "bench/harness/latency.h"
#include "bench/harness/report.h"
#include "bench/report_feed/customer_history.h"
#include "bench/report_feed/feed_server.h"
#include "bench/report_feed/ledger_history.h"
#include "grpcpp/grpcpp.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/db/database.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"
#include "libs/time/time.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(int64_t, customers, 100000, "customers in the tenant");
ABSL_FLAG(int64_t, sales, 10000000, "sales over the two years");
ABSL_FLAG(bool, quick, false, "smoke run: 2,000 customers and 100,000 sales");
ABSL_FLAG(std::string, driver, "sqlite", "report-svc's database: sqlite or postgres");
ABSL_FLAG(std::string, out, "",
          "where the JSON figures go (default bench/results/report_<driver>.json under --root)");
ABSL_FLAG(int, catchup_timeout_minutes, 240, "give up waiting for the catch-up after this");
ABSL_FLAG(int, repeats, 40, "calls of each report RPC (one at a time)");
ABSL_FLAG(int, card_calls, 4000, "GetSummaryCard calls spread over the 16 clients");
ABSL_FLAG(int64_t, crash_at, 0,
          "kill report-svc (SIGKILL) once this many ledger events are applied and restart it, "
          "so that the stream resumes from its stored cursor (0: never)");

namespace kelola::bench {
namespace {

namespace rv1 = kelola::report::v1;

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant) {
  return BenchContext(tenant, absl::Seconds(60));
}

absl::Status FromGrpc(const grpc::Status& s) { return errors::FromGrpcStatus(s); }

double CpuSecondsOfSelf() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a process, from /proc/<pid>/stat; 0 when unreadable.
double CpuSecondsOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t after_name = stat.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(after_name + 2), ' ');
  if (fields.size() < 13) return 0;  // fields 14 and 15 of the line are 11 and 12 here
  return (std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) / sysconf(_SC_CLK_TCK);
}

// The generator run to its end once before the stream: the head sequence, the producer's
// own speed (events built and serialized per second, no gRPC) and the final ledger of
// every customer, which the cards are checked against.
struct DryRun {
  int64_t head = 0;
  double events_per_second = 0;
  std::unique_ptr<LedgerHistory> history;
};

DryRun RunGenerator(const HistoryPlan& plan) {
  DryRun run;
  run.history = std::make_unique<LedgerHistory>(plan);
  type::v1::Event event;
  std::string bytes;
  const absl::Time start = absl::Now();
  while (run.history->Next(&event)) event.SerializeToString(&bytes);
  run.head = run.history->sequence();
  run.events_per_second = run.head / std::max(1e-9, absl::ToDoubleSeconds(absl::Now() - start));
  return run;
}

struct Row {
  std::string label;
  std::string measure;
  std::string value;
  std::string p50 = "-";
  std::string p99 = "-";
  std::string status = "OK";
};

class ReportBench {
 public:
  ReportBench(HistoryPlan plan, std::string driver, std::string db_url, std::string dir)
      : plan_(std::move(plan)),
        driver_(std::move(driver)),
        db_url_(std::move(db_url)),
        dir_(std::move(dir)) {}

  absl::Status Run() {
    std::printf("generating the ledger history once (%lld customers, %lld sales)...\n",
                static_cast<long long>(plan_.customers), static_cast<long long>(plan_.sales));
    dry_ = RunGenerator(plan_);
    Add({"producer alone: build and serialize ledger events", "events/s",
         Fixed(dry_.events_per_second, 0)});
    std::printf("ledger head %lld, customer head %lld; producer alone %.0f events/s\n",
                static_cast<long long>(dry_.head),
                static_cast<long long>(CustomerHistory::Size(plan_)), dry_.events_per_second);
    auto feed = ReportFeed::Start(plan_, dry_.head);
    if (!feed.ok()) return feed.status();
    feed_ = *std::move(feed);
    auto report =
        testing::ServiceProcess::Start({"report-svc",
                                        {"--db=" + db_url_, "--ledger=" + feed_->ledger_address(),
                                         "--customer=" + feed_->customer_address()},
                                        dir_,
                                        /*ready_timeout=*/absl::Minutes(30)});
    if (!report.ok()) return report.status();
    report_process_ = *std::move(report);
    stub_ = rv1::ReportService::NewStub(
        grpc::CreateChannel(report_process_->address(), grpc::InsecureChannelCredentials()));
    if (absl::Status s = CatchUp(); !s.ok()) return s;
    WaitWarm();
    VerifyCards();
    MeasureCards();
    MeasureReports();
    MeasureRestart();
    absl::Status stopped = report_process_->Stop();
    feed_->Shutdown();
    return stopped;
  }

  const std::vector<Row>& rows() const { return rows_; }

 private:
  void Add(Row row) { rows_.push_back(std::move(row)); }

  // The cursors of report-svc's consumers, read from its database: (producer, sequence).
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Cursors(db::Database& db) {
    std::vector<std::pair<std::string, int64_t>> out;
    db::TransactionOptions read_only;
    read_only.read_only = true;
    absl::Status status = db.InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          out.clear();
          auto rows = tx.Query("SELECT producer, sequence FROM consumer_cursors", {});
          if (!rows.ok()) return rows.status();
          for (const db::Row& r : *rows) out.emplace_back(r.GetText(0), r.GetInt(1));
          return absl::OkStatus();
        },
        read_only);
    if (!status.ok()) return status;
    return out;
  }

  // The ledger events every consumer of the ledger stream has applied (the slowest one),
  // and whether every consumer of either stream is at its head.
  std::pair<int64_t, bool> Progress(db::Database& db) {
    auto cursors = Cursors(db);
    if (!cursors.ok()) return {0, false};  // before report-svc's migrations
    int64_t ledger = -1;
    bool done = true;
    for (const auto& [producer, sequence] : *cursors) {
      const bool is_ledger = producer.find("ledger") != std::string::npos;
      const int64_t head = is_ledger ? dry_.head : CustomerHistory::Size(plan_);
      if (is_ledger) ledger = ledger < 0 ? sequence : std::min(ledger, sequence);
      if (sequence < head) done = false;
    }
    return {std::max<int64_t>(ledger, 0), done && ledger >= 0};
  }

  absl::Status CatchUp();
  void WaitWarm();
  void VerifyCards();
  void MeasureCards();
  void MeasureRestart();
  void MeasureReports();
  void MeasureReport(const std::string& what, const std::function<grpc::Status()>& call);

  const HistoryPlan plan_;
  const std::string driver_, db_url_, dir_;
  DryRun dry_;
  std::unique_ptr<ReportFeed> feed_;
  std::unique_ptr<testing::ServiceProcess> report_process_;
  std::unique_ptr<rv1::ReportService::Stub> stub_;
  std::vector<Row> rows_;
};

absl::Status ReportBench::CatchUp() {
  auto db = db::Open(db_url_, db::DatabaseOptions{.pool_size = 1});
  if (!db.ok()) return db.status();
  const double bench_cpu_before = CpuSecondsOfSelf();
  const absl::Time deadline =
      absl::Now() + absl::Minutes(absl::GetFlag(FLAGS_catchup_timeout_minutes));
  absl::Time last_print = absl::Now();
  int64_t applied = 0;
  int64_t crash_at = absl::GetFlag(FLAGS_crash_at);
  int64_t three_quarters = 0;
  absl::Time three_quarters_at;
  bool done = false;
  while (!done && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    std::tie(applied, done) = Progress(**db);
    if (crash_at > 0 && applied >= crash_at && !done) {
      crash_at = 0;
      std::printf("  killing report-svc at %lld applied events, then restarting it\n",
                  static_cast<long long>(applied));
      if (absl::Status s = report_process_->Kill(); !s.ok()) return s;
      if (absl::Status s = report_process_->Restart(); !s.ok()) return s;
    }
    if (three_quarters == 0 && applied >= dry_.head * 3 / 4) {
      three_quarters = applied;
      three_quarters_at = absl::Now();
    }
    if (absl::Now() - last_print >= absl::Seconds(10)) {
      last_print = absl::Now();
      std::printf("  applied %lld of %lld ledger events (streams opened: ledger %d, customer %d)\n",
                  static_cast<long long>(applied), static_cast<long long>(dry_.head),
                  feed_->ledger().streams_opened(), feed_->customer().streams_opened());
      std::fflush(stdout);
    }
  }
  const absl::Time end = absl::Now();
  const absl::Duration elapsed = end - feed_->ledger().first_stream();
  const double rate = applied / std::max(1e-9, absl::ToDoubleSeconds(elapsed));
  Row row{absl::StrCat("catch-up: ", applied, " of ", dry_.head, " ledger events in ",
                       Fixed(absl::ToDoubleSeconds(elapsed), 1), " s"),
          "events/s", Fixed(rate, 0)};
  if (!done) row.status = "not caught up (timeout)";
  Add(row);
  if (three_quarters > 0 && done && end - three_quarters_at > absl::Seconds(2)) {
    const double tail =
        (applied - three_quarters) / std::max(1e-9, absl::ToDoubleSeconds(end - three_quarters_at));
    Add({"catch-up: last quarter of the history alone", "events/s", Fixed(tail, 0)});
  }
  const double report_cpu = CpuSecondsOf(report_process_->pid());
  const double bench_cpu = CpuSecondsOfSelf() - bench_cpu_before;
  Add({"catch-up: report-svc CPU per 1,000 events (whole process, both threads)", "ms",
       Fixed(1000 * 1000 * report_cpu / std::max<int64_t>(1, applied), 2)});
  Add({"catch-up: producer CPU per 1,000 events (generator, gRPC, polling)", "ms",
       Fixed(1000 * 1000 * bench_cpu / std::max<int64_t>(1, applied), 2)});
  return absl::OkStatus();
}

// After the catch-up report-svc's fact index follows the tables in the background and the
// segment distribution is computed from it; the measured phases start once a card carries
// a segment (steady state). How long that took is recorded.
void ReportBench::WaitWarm() {
  const absl::Time start = absl::Now();
  rv1::GetSummaryCardRequest request;
  request.set_customer_id(plan_.CustomerId(0));
  bool warm = false;
  while (!warm && absl::Now() - start < absl::Minutes(20)) {
    rv1::GetSummaryCardResponse response;
    const grpc::Status status =
        stub_->GetSummaryCard(Ctx(plan_.tenant_id).get(), request, &response);
    warm = status.ok() && response.card().segment() != rv1::CUSTOMER_SEGMENT_UNSPECIFIED;
    if (!warm) absl::SleepFor(absl::Milliseconds(200));
  }
  Row row{"after catch-up: fact index followed and segments computed", "s",
          Fixed(absl::ToDoubleSeconds(absl::Now() - start), 1)};
  if (!warm) row.status = "no segment after 20 minutes";
  Add(row);
}

// Resident memory of a process in MiB.
double ResidentMiB(pid_t pid) { return MemoryOf(pid).resident_kib / 1024.0; }

// A restart of report-svc on the full database: the time until it reports SERVING (its fact
// index loaded), and its memory then.
void ReportBench::MeasureRestart() {
  const double before_mib = ResidentMiB(report_process_->pid());
  Add({"report-svc resident memory after the measurements", "MiB", Fixed(before_mib, 0)});
  if (absl::Status stopped = report_process_->Stop(); !stopped.ok()) {
    Add({"restart", "s", "-", "-", "-", std::string(stopped.message())});
    return;
  }
  const absl::Time start = absl::Now();
  absl::Status restarted = report_process_->Restart();
  Row row{"restart: until SERVING (fact index loaded)", "s",
          Fixed(absl::ToDoubleSeconds(absl::Now() - start), 1)};
  if (!restarted.ok()) row.status = std::string(restarted.message());
  Add(row);
  if (restarted.ok()) {
    Add({"restart: resident memory when SERVING", "MiB",
         Fixed(ResidentMiB(report_process_->pid()), 0)});
  }
}

void ReportBench::VerifyCards() {
  constexpr int kSample = 200;
  int matching = 0;
  std::string first_mismatch;
  for (int k = 0; k < kSample; ++k) {
    const int64_t c = static_cast<int64_t>(Mix(plan_.seed, k, 0xFEED) % plan_.customers);
    const CustomerLedger& want = dry_.history->customer(c);
    rv1::GetSummaryCardRequest request;
    request.set_customer_id(plan_.CustomerId(c));
    rv1::GetSummaryCardResponse response;
    const grpc::Status status =
        stub_->GetSummaryCard(Ctx(plan_.tenant_id).get(), request, &response);
    const rv1::SummaryCard& card = response.card();
    if (status.ok() && card.ledger_version() == want.version &&
        card.total_spent().amount_minor() == want.total_spent &&
        card.transaction_count() == want.transactions &&
        card.balance().amount_minor() == want.balance) {
      ++matching;
    } else if (first_mismatch.empty()) {
      first_mismatch = status.ok() ? absl::StrCat(request.customer_id(), ": version ",
                                                  card.ledger_version(), " want ", want.version)
                                   : status.error_message();
    }
  }
  Row row{"cards equal to the generator's ledger (sample)", "cards",
          absl::StrCat(matching, "/", kSample)};
  if (matching != kSample) row.status = absl::StrCat("mismatch: ", first_mismatch);
  Add(row);
}

void ReportBench::MeasureCards() {
  constexpr int kClients = 16;
  const LoadResult r = RunClients(
      kClients, absl::GetFlag(FLAGS_card_calls), absl::Minutes(5), [&](int client, int64_t i) {
        const int64_t c = static_cast<int64_t>(Mix(plan_.seed, i, 0xCA2D) % plan_.customers);
        rv1::GetSummaryCardRequest request;
        request.set_customer_id(plan_.CustomerId(c));
        rv1::GetSummaryCardResponse response;
        return FromGrpc(stub_->GetSummaryCard(Ctx(plan_.tenant_id).get(), request, &response));
      });
  Row row{"GetSummaryCard, 16 clients, random customers", "calls/s", Fixed(r.per_second, 0),
          Fixed(r.latency.p50_ms, 2), Fixed(r.latency.p99_ms, 2)};
  if (r.errors > 0) row.status = absl::StrCat(r.errors, " errors, first: ", r.first_error);
  Add(row);
}

// Calls `call` --repeats times one after another; stops at the first error and records
// its status.
void ReportBench::MeasureReport(const std::string& what,
                                const std::function<grpc::Status()>& call) {
  LatencyRecorder latencies;
  grpc::Status failed;
  for (int i = 0; i < absl::GetFlag(FLAGS_repeats); ++i) {
    const absl::Time start = absl::Now();
    const grpc::Status status = call();
    if (!status.ok()) {
      failed = status;
      break;
    }
    latencies.Add(absl::Now() - start);
  }
  const LatencySummary s = latencies.Summarize();
  Row row{what, "calls", absl::StrCat(s.count)};
  if (s.count > 0) {
    row.p50 = Fixed(s.p50_ms, 2);
    row.p99 = Fixed(s.p99_ms, 2);
  }
  if (!failed.ok()) {
    row.status =
        absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(failed.error_code())));
  }
  Add(row);
}

void ReportBench::MeasureReports() {
  // The last year of the history, as days in the tenant's zone.
  const absl::CivilDay last = TenantDay(plan_.end - absl::Seconds(1));
  const type::v1::Date from = time::ToDate(last - 364);
  const type::v1::Date to = time::ToDate(last);
  MeasureReport("GetCustomerReport, one year", [&] {
    rv1::GetCustomerReportRequest request;
    *request.mutable_start_date() = from;
    *request.mutable_end_date() = to;
    rv1::GetCustomerReportResponse response;
    return stub_->GetCustomerReport(Ctx(plan_.tenant_id).get(), request, &response);
  });
  MeasureReport("GetReceivablesReport, first page", [&] {
    rv1::GetReceivablesReportRequest request;
    rv1::GetReceivablesReportResponse response;
    return stub_->GetReceivablesReport(Ctx(plan_.tenant_id).get(), request, &response);
  });
  for (const auto& [metric, name] : {std::pair{rv1::SERIES_METRIC_SALES, "SALES"},
                                     std::pair{rv1::SERIES_METRIC_RECEIVABLES, "RECEIVABLES"}}) {
    MeasureReport(absl::StrCat("GetSeries ", name, ", daily, one year"), [&] {
      rv1::GetSeriesRequest request;
      request.set_metric(metric);
      request.set_granularity(rv1::GRANULARITY_DAY);
      *request.mutable_start_date() = from;
      *request.mutable_end_date() = to;
      rv1::GetSeriesResponse response;
      return stub_->GetSeries(Ctx(plan_.tenant_id).get(), request, &response);
    });
  }
}

constexpr char kNote[] =
    "The history is one tenant's: customers created evenly over two years (CustomerCreated "
    "on customer-svc's stream, after six CategoryChanged), sales evenly over the same two "
    "years, each for a customer that exists by then (60% paid in cash, 15% half paid, 25% on "
    "credit due in 30 days), and PaymentRecorded events paying all or half of what is "
    "outstanding 1-60 days after most credit sales (one in five never), allocated "
    "oldest-first. Each event carries what ledger-svc's would: the customer's "
    "CustomerLedgerStats after the change, its ledger version and the positions of the "
    "sales it touched. The producers (bench/report_feed) generate the history while "
    "streaming it over kelola.events.v1.EventService/WatchEvents on loopback, in the "
    "rounds the consumer asks for; they run in the benchmark process, on the same two "
    "cores as report-svc. Catch-up is timed from report-svc's first WatchEvents call to the "
    "moment its stored cursors reach both heads (read from its database every 200 ms). "
    "Report calls are one at a time; a row whose status is not OK stopped at that status. "
    "Targets (issue 10), SQLite, 100,000 "
    "customers and 10,000,000 sales: catch-up ≥ 20,000 events/s; GetCustomerReport (one "
    "year) p99 ≤ 500 ms; GetReceivablesReport first page p99 ≤ 200 ms; GetSeries daily "
    "for one year p99 ≤ 200 ms; GetSummaryCard p99 ≤ 5 ms at 16 concurrent clients.";

absl::StatusOr<std::string> DatabaseUrl(const std::string& driver, const std::string& dir,
                                        std::unique_ptr<testing::PostgresServer>& postgres) {
  if (driver == "sqlite") return absl::StrCat("sqlite:", dir, "/report.db");
  if (driver != "postgres") return absl::InvalidArgumentError("--driver: sqlite or postgres");
  auto started = testing::PostgresServer::Start();
  if (!started.ok()) return started.status();
  postgres = *std::move(started);
  return postgres->CreateUniqueDatabase("report");
}

// ServiceProcess finds report-svc under $KELOLA_BUILD_DIR; outside ctest that is the
// build directory this binary lives in (build/bench/report_bench).
void DefaultBuildDir() {
  if (std::getenv("KELOLA_BUILD_DIR") != nullptr) return;
  const std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  setenv("KELOLA_BUILD_DIR", self.parent_path().parent_path().c_str(), 0);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  DefaultBuildDir();
  HistoryPlan plan;
  plan.customers = absl::GetFlag(FLAGS_quick) ? 2000 : absl::GetFlag(FLAGS_customers);
  plan.sales = absl::GetFlag(FLAGS_quick) ? 100000 : absl::GetFlag(FLAGS_sales);
  // The history ends at today's midnight in the tenant's zone: the same history all day.
  plan.end = absl::FromCivil(absl::CivilDay(TenantDay(absl::Now())), TenantZone());
  const std::string driver = absl::GetFlag(FLAGS_driver);
  auto dir = testing::TempDir::Create("kelola-bench-report");
  if (!dir.ok()) return 1;
  std::unique_ptr<testing::PostgresServer> postgres;
  auto url = DatabaseUrl(driver, (*dir)->path(), postgres);
  if (!url.ok()) {
    std::fprintf(stderr, "%s\n", url.status().ToString().c_str());
    return 1;
  }
  ReportBench bench(plan, driver, *url, (*dir)->path());
  if (absl::Status s = bench.Run(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", driver.c_str(), s.ToString().c_str());
    return 1;
  }
  const std::string name = absl::StrCat("report_", driver);
  Report report(name,
                absl::StrCat("report-svc with ", plan.customers, " customers and ", plan.sales,
                             " sales over two years (", driver, ")"),
                absl::StrCat("build/bench/report_bench --driver=", driver,
                             " --customers=", plan.customers, " --sales=", plan.sales));
  for (const Row& row : bench.rows()) {
    report.AddRow({absl::StrCat(driver, ": ", row.label),
                   {{"measure", row.measure},
                    {"value", row.value},
                    {"p50 ms", row.p50},
                    {"p99 ms", row.p99},
                    {"status", row.status}}});
  }
  report.AddNote(kNote);
  if (plan.customers != 100000 || plan.sales != 10000000) {
    report.AddNote(absl::StrCat("This run is at a reduced size (", plan.customers, " customers, ",
                                plan.sales,
                                " sales): a smoke run, not the size the targets are set for."));
  }
  const std::string root = absl::GetFlag(FLAGS_root);
  if (absl::Status s = report.Write(root); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const std::string written = absl::StrCat(root, "/bench/results/", name, ".json");
  const std::string out = absl::GetFlag(FLAGS_out);
  std::error_code error;
  if (!out.empty() && !std::filesystem::equivalent(written, out, error)) {
    std::filesystem::copy_file(written, out, std::filesystem::copy_options::overwrite_existing,
                               error);
    if (error) std::fprintf(stderr, "cannot write %s: %s\n", out.c_str(), error.message().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
