// How a unary call's handler is run, measured on this machine with nothing else in the
// way: gRPC's synchronous server as the services set theirs up (libs/server), the callback
// API with the handler run inline, and the callback API with the handler handed to a pool
// of threads (what a handler that blocks on a database needs). Each server is the null RPC
// server (bench/harness/null_rpc_server.h) in a process of its own, answering the same
// card; each call first spends a fixed CPU time in its handler (0 µs, and 300 µs: about half
// of what a name search costs customer-svc at a million), so that the figures say what each
// threading model
// adds to a call and how it shares two cores among CPU-bound handlers. The client is the
// closed loop on gRPC's callback API that the other benchmarks use.
//
//   scripts/bench server_threading

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/harness/closed_loop.h"
#include "bench/harness/latency.h"
#include "bench/harness/null_rpc_server.h"
#include "bench/harness/process_cpu.h"
#include "bench/harness/report.h"
#include "grpcpp/grpcpp.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/temp_dir.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(int, seconds, 4, "measured seconds per case and round");
ABSL_FLAG(int, warmup, 1, "warm-up seconds before each measurement");
ABSL_FLAG(int, rounds, 3, "rounds; figures are medians over them");
ABSL_FLAG(std::vector<std::string>, work_us, std::vector<std::string>({"0", "300"}),
          "CPU µs each call spends in its handler, one server per value and threading");
ABSL_FLAG(std::vector<std::string>, outstanding, std::vector<std::string>({"1", "16", "64"}),
          "calls in flight");
ABSL_FLAG(int, pool_threads, 16, "threads of the callback-pool server's pool");
ABSL_FLAG(int, null_rpc_port, 0, "internal: serve the null RPC on this port and nothing else");
ABSL_FLAG(std::string, null_rpc_card, "", "internal: the card the null RPC answers");
ABSL_FLAG(std::string, null_rpc_threading, "sync", "internal: sync, callback or callback-pool");
ABSL_FLAG(int, null_rpc_work_us, 0, "internal: CPU µs each call spends");
ABSL_FLAG(int, null_rpc_threads, 256, "internal: sync thread limit, or the pool's threads");

namespace kelola::bench {
namespace {

namespace rv1 = kelola::report::v1;

struct Server {
  NullRpcThreading threading;
  int work_us = 0;
  NullRpcServer process;
  std::shared_ptr<rv1::ReportService::Stub> stub;
};

struct Case {
  Server* server = nullptr;
  int outstanding = 0;
  std::vector<LoadResult> runs;
  std::vector<double> server_us, client_us;  // CPU per call, one per round
};

AsyncCall CardCall(std::shared_ptr<rv1::ReportService::Stub> stub) {
  return UnaryCall<rv1::GetSummaryCardRequest, rv1::GetSummaryCardResponse>(
      [] {
        auto context = std::make_unique<grpc::ClientContext>();
        context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        return context;
      },
      [] {
        rv1::GetSummaryCardRequest request;
        request.set_customer_id("0190a8b2-7c3e-7d4f-9a1b-2c3d4e5f6a7b");
        return request;
      },
      [stub](auto* c, auto* q, auto* r, auto done) {
        stub->async()->GetSummaryCard(c, q, r, std::move(done));
      });
}

void RunCase(Case& c) {
  ClosedLoopOptions options;
  options.outstanding = c.outstanding;
  options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup));
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const absl::Time from = absl::Now() + options.warmup;
  CpuWindow window({{"server", c.server->process.process->pid()}, {"client", getpid()}}, from,
                   from + options.duration);
  LoadResult r = RunClosedLoop(options, CardCall(c.server->stub));
  const std::vector<ProcessCpu> cpu = window.Finish();
  const double calls = static_cast<double>(std::max<int64_t>(1, r.operations));
  c.server_us.push_back(cpu[0].seconds * 1e6 / calls);
  c.client_us.push_back(cpu[1].seconds * 1e6 / calls);
  c.runs.push_back(std::move(r));
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_null_rpc_port) > 0) {
    auto threading = ParseNullRpcThreading(absl::GetFlag(FLAGS_null_rpc_threading));
    absl::Status s = threading.status();
    if (s.ok()) {
      NullRpcOptions options;
      options.threading = *threading;
      options.work = absl::Microseconds(absl::GetFlag(FLAGS_null_rpc_work_us));
      options.max_threads = absl::GetFlag(FLAGS_null_rpc_threads);
      s = ServeNullRpc(absl::GetFlag(FLAGS_null_rpc_port), absl::GetFlag(FLAGS_null_rpc_card),
                       options);
    }
    std::fprintf(stderr, "null RPC server: %s\n", s.ToString().c_str());
    return 1;
  }
  auto fail = [](const char* what, const absl::Status& s) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    return 1;
  };
  std::vector<int> works, outstanding;
  for (const std::string& w : absl::GetFlag(FLAGS_work_us)) {
    int v = 0;
    if (!absl::SimpleAtoi(w, &v) || v < 0) return fail("--work_us", absl::InvalidArgumentError(w));
    works.push_back(v);
  }
  for (const std::string& o : absl::GetFlag(FLAGS_outstanding)) {
    int v = 0;
    if (!absl::SimpleAtoi(o, &v) || v < 1) {
      return fail("--outstanding", absl::InvalidArgumentError(o));
    }
    outstanding.push_back(v);
  }
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  auto dir = testing::TempDir::Create("kelola-server-threading");
  if (!dir.ok()) return fail("temporary directory", dir.status());
  rv1::SummaryCard card;  // about the size of a real card
  card.set_customer_id("0190a8b2-7c3e-7d4f-9a1b-2c3d4e5f6a7b");
  card.set_transaction_count(42);
  card.mutable_total_spent()->set_currency_code("IDR");
  card.mutable_total_spent()->set_amount_minor(123456700);
  card.mutable_balance()->set_currency_code("IDR");
  card.mutable_balance()->set_amount_minor(2500000);
  const std::string card_file = (*dir)->Join("card.bin");
  std::ofstream(card_file, std::ios::binary) << card.SerializeAsString();

  std::vector<std::unique_ptr<Server>> servers;
  for (NullRpcThreading threading :
       {NullRpcThreading::kSync, NullRpcThreading::kCallback, NullRpcThreading::kCallbackPool}) {
    for (int work : works) {
      const std::string name = NullRpcThreadingName(threading);
      const int threads =
          threading == NullRpcThreading::kCallbackPool ? absl::GetFlag(FLAGS_pool_threads) : 256;
      auto process = StartNullRpcServer(
          self, card_file, (*dir)->Join(absl::StrCat(name, "-", work, ".log")),
          {absl::StrCat("--null_rpc_threading=", name), absl::StrCat("--null_rpc_work_us=", work),
           absl::StrCat("--null_rpc_threads=", threads)});
      if (!process.ok()) return fail("starting a server", process.status());
      auto server = std::make_unique<Server>();
      server->threading = threading;
      server->work_us = work;
      server->stub = rv1::ReportService::NewStub(
          grpc::CreateChannel(process->address, grpc::InsecureChannelCredentials()));
      server->process = *std::move(process);
      servers.push_back(std::move(server));
    }
  }
  std::vector<Case> cases;
  for (int work : works) {
    for (int n : outstanding) {
      for (auto& server : servers) {
        if (server->work_us == work) cases.push_back(Case{server.get(), n, {}, {}, {}});
      }
    }
  }
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    std::fprintf(stderr, "round %d of %d\n", round + 1, absl::GetFlag(FLAGS_rounds));
    for (Case& c : cases) RunCase(c);
  }

  Report report("server_threading", "gRPC server threading: synchronous against callback",
                "scripts/bench server_threading");
  for (const Case& c : cases) {
    std::vector<double> qps, p50, p99;
    int64_t errors = 0;
    for (const LoadResult& r : c.runs) {
      qps.push_back(r.per_second);
      p50.push_back(r.latency.p50_ms * 1000);
      p99.push_back(r.latency.p99_ms * 1000);
      errors += r.errors;
    }
    report.AddRow({absl::StrCat(NullRpcThreadingName(c.server->threading), ", ", c.server->work_us,
                                " µs of work a call, ", c.outstanding, " in flight"),
                   {{"calls/s", Fixed(Median(qps), 0)},
                    {"p50 µs", Fixed(Median(p50), 0)},
                    {"p99 µs", Fixed(Median(p99), 0)},
                    {"server CPU µs/call", Fixed(Median(c.server_us), 0)},
                    {"client CPU µs/call", Fixed(Median(c.client_us), 0)},
                    {"errors", absl::StrCat(errors)}}});
  }
  report.AddNote(absl::StrCat(
      "Medians over ", absl::GetFlag(FLAGS_rounds), " rounds of ", absl::GetFlag(FLAGS_seconds),
      " s after ", absl::GetFlag(FLAGS_warmup),
      " s of warm-up; every case once per round. Each server is a process of its own "
      "answering kelola.report.v1.ReportService/GetSummaryCard with the same card after "
      "spending the stated CPU time on its handler's thread (a spin on the thread's CPU "
      "clock). sync: gRPC's synchronous server as libs/server sets up every service's (a "
      "ResourceQuota of 256 threads, pollers kept up to it). callback: the callback API, the "
      "handler run on the thread gRPC calls it on. callback-pool: the callback API, the "
      "handler posted to a pool of ",
      absl::GetFlag(FLAGS_pool_threads),
      " threads that answers (what a handler blocking on a database needs). No interceptors, "
      "no authentication. CPU per call: each process's CPU time over the measured window "
      "(/proc), over the calls that succeeded in it; the client is this process."));
  absl::Status written = report.Write(absl::GetFlag(FLAGS_root));
  return written.ok() ? 0 : 1;
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
