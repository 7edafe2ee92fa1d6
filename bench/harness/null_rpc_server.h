#pragma once

// The ceiling a service's figures are compared with: a gRPC server that does no work of
// its own. It serves kelola.report.v1.ReportService/GetSummaryCard (and grpc.health.v1)
// and answers every call with the same card, by default on gRPC's synchronous server set
// up as the suite's services set theirs up (libs/server: a ResourceQuota of --max_threads,
// 256 by default, and the pollers kept), so it pays the same thread handoff per call as a
// service's synchronous handlers, without interceptors, authentication, caching or
// backends. Options make each call spend CPU first, and serve it from gRPC's callback API
// instead (bench/server_threading_bench.cc compares them).
//
// It runs as a child process (the benchmark binary started again in server mode), so that
// like a real service it does not share a process, and gRPC's threads, with the client.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"

namespace kelola::bench {

// Where a call's handler runs.
enum class NullRpcThreading {
  kSync,          // gRPC's synchronous server, as the services run theirs
  kCallback,      // the callback API, the handler run inline where gRPC calls it
  kCallbackPool,  // the callback API, the handler handed to a pool of threads (as a
                  // handler that blocks on a database would have to be)
};

struct NullRpcOptions {
  NullRpcThreading threading = NullRpcThreading::kSync;
  // CPU time each call spends (a spin on the thread's CPU clock) before it answers.
  absl::Duration work = absl::ZeroDuration();
  // kSync: the ResourceQuota's thread limit; kCallbackPool: the pool's threads.
  int max_threads = 256;
};

// Parses "sync", "callback" or "callback-pool".
absl::StatusOr<NullRpcThreading> ParseNullRpcThreading(const std::string& name);
std::string NullRpcThreadingName(NullRpcThreading threading);

// Serves until killed: the card in `card_file` (a serialized kelola.report.v1.SummaryCard)
// on 127.0.0.1:`port`. Returns only when the server cannot start.
absl::Status ServeNullRpc(int port, const std::string& card_file, const NullRpcOptions& options);

struct NullRpcServer {
  std::unique_ptr<testing::Process> process;
  std::string address;  // 127.0.0.1:PORT
};

// Starts `self` (this benchmark's binary) with `--null_rpc_port=P --null_rpc_card=FILE` and
// `extra_args` (the binary's flags for NullRpcOptions), and waits until it answers health
// checks; the binary's main calls ServeNullRpc for those flags.
absl::StatusOr<NullRpcServer> StartNullRpcServer(const std::string& self,
                                                 const std::string& card_file,
                                                 const std::string& log_path,
                                                 const std::vector<std::string>& extra_args = {});

}  // namespace kelola::bench
