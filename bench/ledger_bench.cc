// ledger-svc write throughput and latency, through gRPC on loopback, with 1, 16 and 64
// concurrent clients: RecordSale (a credit sale for an existing customer, checked with
// customer-svc) and RecordPayment (oldest-first allocation), on SQLite and PostgreSQL.
// In the same run, the baseline: the same database doing one durable single-row insert
// transaction per request from as many threads. Both ledger-svc and customer-svc run as
// processes; ledger-svc runs with its defaults (group commit on). The clients are a closed
// loop on gRPC's callback API (--client=callback) or one thread per client blocking on each
// call (--client=threads); the CPU each process used per sale is reported with the rates.
// Every phase runs once per round (--rounds); the figures are medians over the rounds.
//
//   scripts/bench ledger

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>
#include <type_traits>

#include "absl/cleanup/cleanup.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/harness/calls.h"
#include "bench/harness/closed_loop.h"
#include "bench/harness/customer_data.h"
#include "bench/harness/latency.h"
#include "bench/harness/process_cpu.h"
#include "bench/harness/report.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(std::string, drivers, "sqlite,postgres", "storage drivers to measure");
ABSL_FLAG(int, seconds, 8, "seconds per measurement");
ABSL_FLAG(int, rounds, 3,
          "rounds of the measurements (every phase once per round); each figure is the median "
          "over them");
ABSL_FLAG(int, customers, 500, "customers the sales are spread over");
ABSL_FLAG(std::vector<std::string>, clients, std::vector<std::string>({"1", "16", "64"}),
          "concurrent clients of each measurement, comma-separated (e.g. 16 to profile)");
ABSL_FLAG(std::vector<std::string>, ledger_flags, {},
          "extra flags for ledger-svc, comma-separated (e.g. --group_commit=false)");
ABSL_FLAG(std::string, client, "callback",
          "how the clients call: callback (a closed loop on gRPC's callback API, no thread per "
          "call) or threads (one thread per client, blocking on each call)");

namespace kelola::bench {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
constexpr char kTenant[] = "bench";

std::unique_ptr<grpc::ClientContext> Ctx() { return BenchContext(kTenant); }

absl::Status FromGrpc(const grpc::Status& s) { return errors::FromGrpcStatus(s); }

kelola::type::v1::Money Idr(int64_t minor) {
  kelola::type::v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency_code("IDR");
  return m;
}

class LedgerBench {
 public:
  LedgerBench(std::string driver, std::string customer_db, std::string ledger_db,
              std::string baseline_db, std::string dir, Report& report)
      : driver_(std::move(driver)),
        customer_db_(std::move(customer_db)),
        ledger_db_(std::move(ledger_db)),
        baseline_db_(std::move(baseline_db)),
        dir_(std::move(dir)),
        report_(report) {}

  absl::Status Run() {
    auto customer = testing::ServiceProcess::Start(
        {"customer-svc", {"--db=" + customer_db_, "--ledger=127.0.0.1:1"}, dir_});
    if (!customer.ok()) return customer.status();
    std::vector<std::string> ledger_args = {"--db=" + ledger_db_,
                                            "--customer=" + (*customer)->address()};
    for (const std::string& flag : absl::GetFlag(FLAGS_ledger_flags)) ledger_args.push_back(flag);
    auto ledger = testing::ServiceProcess::Start({"ledger-svc", ledger_args, dir_});
    if (!ledger.ok()) return ledger.status();
    auto customers = cv1::CustomerService::NewStub(
        grpc::CreateChannel((*customer)->address(), grpc::InsecureChannelCredentials()));
    auto ledger_channel =
        grpc::CreateChannel((*ledger)->address(), grpc::InsecureChannelCredentials());
    ledger_ = lv1::LedgerService::NewStub(ledger_channel);
    generic_ = std::make_unique<grpc::GenericStub>(ledger_channel);

    CustomerData data(99);
    for (int i = 0; i < absl::GetFlag(FLAGS_customers); ++i) {
      SyntheticCustomer c = data.Make(i);
      cv1::CreateCustomerRequest request;
      request.mutable_customer()->set_display_name(c.display_name);
      request.mutable_customer()->mutable_phone()->set_raw(c.phone);
      cv1::CreateCustomerResponse response;
      if (auto s = FromGrpc(customers->CreateCustomer(Ctx().get(), request, &response)); !s.ok()) {
        return s;
      }
      customer_ids_.push_back(response.customer().customer_id());
    }

    const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
    phase_ = duration;
    const std::vector<std::pair<std::string, pid_t>> processes = {
        {"ledger-svc", (*ledger)->pid()},
        {"customer-svc", (*customer)->pid()},
        {"bench client", getpid()},
        {"machine", kWholeMachine}};
    const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
    for (const std::string& count : absl::GetFlag(FLAGS_clients)) {
      int clients = 0;
      if (!absl::SimpleAtoi(count, &clients) || clients < 1) {
        return absl::InvalidArgumentError(absl::StrCat("--clients: not a count: ", count));
      }
      // Every phase once per round, so that the machine's drift spreads over all of them.
      std::vector<Round> runs;
      for (int r = 0; r < rounds; ++r) runs.push_back(RunRound(clients, duration, processes));
      AddRows(clients, runs);
    }
    if (auto s = (*ledger)->Stop(); !s.ok()) return s;
    return (*customer)->Stop();
  }

 private:
  // One round of the phases for one number of clients: the baseline, the sales (with the
  // CPU each process used and PostgreSQL's WAL), the payments and the floor (with its CPU).
  struct Round {
    LoadResult baseline, sales, payments, floor;
    std::vector<ProcessCpu> baseline_cpu, sale_cpu, floor_cpu;
    int64_t wal_bytes = -1;  // -1: not measured (SQLite)
  };

  Round RunRound(int clients, absl::Duration duration,
                 const std::vector<std::pair<std::string, pid_t>>& processes) {
    Round round;
    round.baseline = Baseline(clients, duration, processes, &round.baseline_cpu);
    const int64_t wal_before = WalPosition();
    CpuWindow sale_cpu(processes, absl::Now(), absl::Now() + duration);
    round.sales =
        Load<lv1::RecordSaleResponse>(clients, duration, [this](int64_t i) { return SaleCall(i); });
    round.sale_cpu = sale_cpu.Finish();
    if (wal_before > 0) round.wal_bytes = WalPosition() - wal_before;
    round.payments = Load<lv1::RecordPaymentResponse>(clients, duration,
                                                      [this](int64_t i) { return PaymentCall(i); });
    CpuWindow floor_cpu(processes, absl::Now(), absl::Now() + duration);
    round.floor = Floor(clients, duration);
    round.floor_cpu = floor_cpu.Finish();
    return round;
  }

  // The rows and notes of one number of clients: medians over the rounds. The ratio to the
  // baseline is the median of each round's ratio (a write and the baseline measured minutes
  // apart on this machine can differ by half); "range" is the lowest and highest rate.
  void AddRows(int clients, const std::vector<Round>& runs) {
    auto phase = [&](const LoadResult Round::*field) {
      std::vector<LoadResult> out;
      for (const Round& r : runs) out.push_back(r.*field);
      return out;
    };
    const std::vector<LoadResult> baseline = phase(&Round::baseline);
    AddRow("RecordSale", phase(&Round::sales), baseline);
    AddRow("RecordPayment", phase(&Round::payments), baseline);
    AddRow("floor: gRPC health check", phase(&Round::floor), {});
    AddRow("baseline insert", baseline, baseline);
    std::vector<std::pair<LoadResult, std::vector<ProcessCpu>>> baseline_cpu, sale_cpu, floor_cpu;
    std::vector<double> wal_per_sale;
    for (const Round& r : runs) {
      baseline_cpu.emplace_back(r.baseline, r.baseline_cpu);
      sale_cpu.emplace_back(r.sales, r.sale_cpu);
      floor_cpu.emplace_back(r.floor, r.floor_cpu);
      if (r.wal_bytes >= 0 && r.sales.operations > 0) {
        wal_per_sale.push_back(static_cast<double>(r.wal_bytes) / r.sales.operations);
      }
    }
    AddCpuNote(clients, "RecordSale", "sale", sale_cpu);
    AddCpuNote(clients, "floor: gRPC health check", "call", floor_cpu);
    AddCpuNote(clients, "baseline insert", "insert", baseline_cpu);
    if (!wal_per_sale.empty()) {
      report_.AddNote(absl::StrCat(
          driver_, " RecordSale, ", clients, " clients: WAL written per sale ",
          Fixed(Median(wal_per_sale), 0), " bytes (the whole server; median over the rounds)."));
    }
  }

  // A row of medians over the rounds; `baseline` empty: a row with no ratio to it.
  void AddRow(const std::string& what, const std::vector<LoadResult>& runs,
              const std::vector<LoadResult>& baseline) {
    std::vector<double> rates, p50, p99, ratios;
    int64_t errors = 0;
    std::string first_error;
    for (size_t i = 0; i < runs.size(); ++i) {
      const LoadResult& r = runs[i];
      rates.push_back(r.per_second);
      p50.push_back(r.latency.p50_ms);
      p99.push_back(r.latency.p99_ms);
      if (i < baseline.size())
        ratios.push_back(r.per_second / std::max(1.0, baseline[i].per_second));
      errors += r.errors;
      if (first_error.empty()) first_error = r.first_error;
    }
    const auto [low, high] = std::minmax_element(rates.begin(), rates.end());
    const int clients = runs.empty() ? 0 : runs.front().clients;
    report_.AddRow(
        {absl::StrCat(driver_, ": ", what, ", ", clients, " clients"),
         {{"writes/s", Fixed(Median(rates), 0)},
          {"range", runs.empty() ? "-" : absl::StrCat(Fixed(*low, 0), "–", Fixed(*high, 0))},
          {"p50 ms", Fixed(Median(p50), 2)},
          {"p99 ms", Fixed(Median(p99), 2)},
          {"× baseline", ratios.empty() ? "—" : Fixed(Median(ratios), 2)}}});
    if (errors > 0) {
      report_.AddNote(absl::StrCat(driver_, " ", what, " ", clients, " clients: ", errors,
                                   " errors in all rounds, first: ", first_error));
    }
  }

  // The i-th call of a run: a request id of its own, the customers taken 7919 apart (a
  // prime: every customer in turn, and calls in flight at once meet different customers).
  const std::string& CustomerOf(int64_t i) const {
    return customer_ids_[(i * 7919) % customer_ids_.size()];
  }

  lv1::RecordSaleRequest SaleCall(int64_t i) {
    lv1::RecordSaleRequest request;
    request.set_request_id(absl::StrCat("sale-", driver_, "-", i, "-", ++counter_));
    request.set_customer_id(CustomerOf(i));
    request.set_store_id("store-1");
    auto* coffee = request.add_items();
    coffee->set_sku("KOPI-250");
    coffee->set_name("Kopi Bubuk 250 g");
    coffee->set_quantity_milli(2000);
    *coffee->mutable_unit_price() = Idr(3500000);
    auto* sugar = request.add_items();
    sugar->set_sku("GULA-1KG");
    sugar->set_name("Gula Pasir 1 kg");
    sugar->set_quantity_milli(1000);
    *sugar->mutable_unit_price() = Idr(1800000);
    *request.mutable_total() = Idr(8800000);
    *request.mutable_amount_paid_now() = Idr(3000000);
    request.set_payment_method(lv1::PAYMENT_METHOD_CASH);
    return request;
  }

  lv1::RecordPaymentRequest PaymentCall(int64_t i) {
    lv1::RecordPaymentRequest request;
    request.set_request_id(absl::StrCat("pay-", driver_, "-", i, "-", ++counter_));
    request.set_customer_id(CustomerOf(i));
    *request.mutable_amount() = Idr(100000);
    request.set_method(lv1::PAYMENT_METHOD_QRIS);
    request.set_keep_excess_as_credit(true);
    return request;
  }

  // The two writes, blocking and on the callback API.
  grpc::Status Send(grpc::ClientContext* c, const lv1::RecordSaleRequest& q,
                    lv1::RecordSaleResponse* r) {
    return ledger_->RecordSale(c, q, r);
  }
  grpc::Status Send(grpc::ClientContext* c, const lv1::RecordPaymentRequest& q,
                    lv1::RecordPaymentResponse* r) {
    return ledger_->RecordPayment(c, q, r);
  }
  void Start(grpc::ClientContext* c, const lv1::RecordSaleRequest* q, lv1::RecordSaleResponse* r,
             std::function<void(grpc::Status)> done) {
    ledger_->async()->RecordSale(c, q, r, std::move(done));
  }
  void Start(grpc::ClientContext* c, const lv1::RecordPaymentRequest* q,
             lv1::RecordPaymentResponse* r, std::function<void(grpc::Status)> done) {
    ledger_->async()->RecordPayment(c, q, r, std::move(done));
  }

  // A closed loop of `clients` calls in flight for `duration`; as with threads, every call
  // of the window counts (no warm-up).
  static ClosedLoopOptions Window(int clients, absl::Duration duration) {
    ClosedLoopOptions options;
    options.outstanding = clients;
    options.warmup = absl::ZeroDuration();
    options.duration = duration;
    return options;
  }

  // `clients` concurrent callers for `duration`, the i-th call sending make(i).
  template <typename Response, typename MakeRequest>
  LoadResult Load(int clients, absl::Duration duration, MakeRequest make) {
    using Request = std::invoke_result_t<MakeRequest, int64_t>;
    std::atomic<int64_t> next{0};
    if (absl::GetFlag(FLAGS_client) == "threads") {
      return RunClients(clients, int64_t{1} << 40, duration, [&](int, int64_t) {
        const Request request = make(next++);
        Response response;
        return FromGrpc(Send(Ctx().get(), request, &response));
      });
    }
    return RunClosedLoop(
        Window(clients, duration),
        UnaryCall<Request, Response>(
            [] { return Ctx(); }, [&] { return make(next++); },
            [this](grpc::ClientContext* c, const Request* q, Response* r,
                   std::function<void(grpc::Status)> done) { Start(c, q, r, std::move(done)); }));
  }

  // What each process spent per call in a phase, the median over the rounds of each figure
  // on its own; "the rest" is the machine's busy time the named processes do not account
  // for (PostgreSQL's backends, kernel threads).
  void AddCpuNote(int clients, const std::string& phase, const std::string& unit,
                  const std::vector<std::pair<LoadResult, std::vector<ProcessCpu>>>& runs) {
    std::vector<std::vector<double>> per_call(5);  // the three processes, the rest, all
    std::vector<double> busy;  // the machine's busy share of its cores over the phase
    const double cores = std::max(1u, std::thread::hardware_concurrency());
    for (const auto& [calls, cpu] : runs) {
      if (calls.operations == 0 || cpu.size() < 4) continue;
      const double n = static_cast<double>(calls.operations);
      const double named = cpu[0].seconds + cpu[1].seconds + cpu[2].seconds;
      for (size_t p = 0; p < 3; ++p) per_call[p].push_back(cpu[p].seconds * 1e6 / n);
      per_call[3].push_back(std::max(0.0, cpu[3].seconds - named) * 1e6 / n);
      per_call[4].push_back(cpu[3].seconds * 1e6 / n);
      // Over the CPU window (the phase's length), the same interval the seconds were taken in.
      if (phase_ > absl::ZeroDuration()) {
        busy.push_back(100 * cpu[3].seconds / (absl::ToDoubleSeconds(phase_) * cores));
      }
    }
    if (per_call[4].empty()) return;
    const std::vector<ProcessCpu>& names = runs.front().second;
    auto us = [&](size_t p) { return Fixed(Median(per_call[p]), 0); };
    report_.AddNote(absl::StrCat(
        driver_, " ", phase, ", ", clients, " clients, CPU per ", unit,
        " (µs, medians over the rounds): ", names[0].name, " ", us(0), ", ", names[1].name, " ",
        us(1), ", ", names[2].name, " ", us(2), ", the rest of the machine ", us(3),
        " (all: ", us(4), "); the machine busy ", Fixed(Median(busy), 0), " % of its cores."));
  }

  // The floor under every write: gRPC's health check on ledger-svc, one unary round trip
  // through the same channel, server and interceptors as a sale, with none of the ledger's
  // work and no database. What a sale costs above it is the ledger's and the database's.
  LoadResult Floor(int clients, absl::Duration duration) {
    return RunClosedLoop(Window(clients, duration),
                         UnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
                             [] { return Ctx(); },
                             [] {
                               grpc::Slice empty("");  // a HealthCheckRequest for the whole server
                               return grpc::ByteBuffer(&empty, 1);
                             },
                             [this](grpc::ClientContext* c, const grpc::ByteBuffer* q,
                                    grpc::ByteBuffer* r, std::function<void(grpc::Status)> done) {
                               generic_->UnaryCall(c, "/grpc.health.v1.Health/Check",
                                                   grpc::StubOptions(), q, r, std::move(done));
                             }));
  }

  // PostgreSQL's WAL insert position in bytes (0 on SQLite or when it cannot be read): the
  // difference over a phase is what the phase wrote, every index entry and page image.
  int64_t WalPosition() {
    if (driver_ != "postgres") return 0;
    if (wal_reader_ == nullptr) {
      auto db = db::Open(ledger_db_);
      if (!db.ok()) return 0;
      wal_reader_ = *std::move(db);
    }
    int64_t position = 0;
    (void)wal_reader_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint", {});
      if (!row.ok()) return row.status();
      position = row->GetInt(0);
      return absl::OkStatus();
    });
    return position;
  }

  // One durable single-row insert transaction per request, from `clients` threads; the CPU
  // the processes used while they ran goes to `cpu`.
  LoadResult Baseline(int clients, absl::Duration duration,
                      const std::vector<std::pair<std::string, pid_t>>& processes,
                      std::vector<ProcessCpu>* cpu) {
    auto db = db::Open(baseline_db_);
    if (!db.ok()) return {};
    (void)db::ApplyMigrations(
        **db, {{1, "baseline", "CREATE TABLE baseline (id TEXT PRIMARY KEY, amount BIGINT)", ""}});
    const int64_t run = ++baseline_runs_;  // ids of their own in every round
    CpuWindow window(processes, absl::Now(), absl::Now() + duration);
    absl::Cleanup finish = [&] { *cpu = window.Finish(); };
    return RunClients(clients, int64_t{1} << 40, duration, [&](int c, int64_t i) {
      return (*db)->InTransaction([&](db::Transaction& tx) {
        return tx
            .Execute("INSERT INTO baseline (id, amount) VALUES (?, ?)",
                     {absl::StrCat(run, "-", c, "-", i), i})
            .status();
      });
    });
  }

  std::string driver_, customer_db_, ledger_db_, baseline_db_, dir_;
  std::unique_ptr<db::Database> wal_reader_;  // PostgreSQL: reads the WAL position
  Report& report_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_;
  std::unique_ptr<grpc::GenericStub> generic_;  // the floor's health checks
  std::vector<std::string> customer_ids_;
  std::atomic<int64_t> counter_{0};
  int64_t baseline_runs_ = 0;
  absl::Duration phase_ = absl::Seconds(1);  // each phase's length (--seconds)
};

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (const std::string client = absl::GetFlag(FLAGS_client);
      client != "callback" && client != "threads") {
    std::fprintf(stderr, "--client: callback or threads, not %s\n", client.c_str());
    return 1;
  }
  auto dir = testing::TempDir::Create("kelola-bench-ledger");
  if (!dir.ok()) return 1;
  Report report("ledger", "ledger-svc writes against a durable-insert baseline",
                "scripts/bench ledger");
  std::unique_ptr<testing::PostgresServer> postgres;
  for (const std::string& driver :
       std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_drivers), ','))) {
    std::vector<std::string> urls;
    for (const char* name : {"customers", "ledger", "baseline"}) {
      if (driver == "sqlite") {
        urls.push_back(absl::StrCat("sqlite:", (*dir)->path(), "/", name, ".db"));
        continue;
      }
      if (postgres == nullptr) {
        // Durable, as in production: the test harness's default server runs with fsync and
        // synchronous_commit off, which would hide the cost of every commit.
        testing::PostgresServerOptions durable;
        durable.extra_args = {"-c", "fsync=on",           "-c", "synchronous_commit=on",
                              "-c", "full_page_writes=on"};
        auto started = testing::PostgresServer::Start(durable);
        if (!started.ok()) {
          std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
          return 1;
        }
        postgres = *std::move(started);
      }
      auto created = postgres->CreateUniqueDatabase(name);
      if (!created.ok()) return 1;
      urls.push_back(*created);
    }
    LedgerBench bench(driver, urls[0], urls[1], urls[2], (*dir)->path(), report);
    if (absl::Status s = bench.Run(); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", driver.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  report.AddNote(absl::StrCat(
      "Figures are medians over ", std::max(1, absl::GetFlag(FLAGS_rounds)), " rounds of ",
      absl::GetFlag(FLAGS_seconds),
      " s phases (every phase once per round: baseline, sales, payments, floor; this machine's "
      "speed drifts by more than the targets' margins between runs); range is the lowest and "
      "highest rate over the rounds; × baseline is the median of each round's ratio. "
      "Each RecordSale is a credit sale of two items for one of the customers, partly paid "
      "(ledger-svc checks the customer in its projection of customer-svc's directory, then "
      "writes the sale, its payment, allocation, stats, idempotency record and event in one "
      "transaction); each RecordPayment is allocated oldest-first. The baseline is the same "
      "database doing one durable single-row INSERT transaction per request from as many "
      "threads, without gRPC. SQLite: synchronous=FULL, group commit on. PostgreSQL: fsync=on, "
      "synchronous_commit=on, full_page_writes=on, group commit off (concurrent transactions, "
      "8 connections). ledger-svc runs with its defaults. The floor is gRPC's health check on "
      "ledger-svc from the same client over the same channel: a unary round trip through the "
      "same server and interceptors with none of the ledger's work. The clients: ",
      absl::GetFlag(FLAGS_client) == "threads"
          ? "one thread per client, each blocking on its call"
          : "a closed loop on gRPC's callback API, as many calls in flight as clients",
      " (--client). Targets (issue 12): SQLite at 64 "
      "clients ≥ 5,000 sales/s, ≥ 0.9× the baseline, p99 ≤ 50 ms; PostgreSQL ≥ 2,000 sales/s "
      "at 16 clients, no drop from 16 to 64, p99 ≤ 50 ms at 16."));
  absl::Status written = report.Write(absl::GetFlag(FLAGS_root));
  return written.ok() ? 0 : 1;
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
