#pragma once

// The ceiling a service's figures are compared with: a gRPC server that does no work.
// It serves kelola.report.v1.ReportService/GetSummaryCard (and grpc.health.v1) and answers
// every call with the same card, on gRPC's synchronous server with the thread limit the
// suite's services use (libs/server: a ResourceQuota of --max_threads, 256 by default), so
// it pays the same thread handoff per call as a service's synchronous handlers, without
// interceptors, authentication, caching or backends.
//
// It runs as a child process (the benchmark binary started again in server mode), so that
// like a real service it does not share a process, and gRPC's threads, with the client.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/testing/process.h"

namespace kelola::bench {

// Serves until killed: the card in `card_file` (a serialized kelola.report.v1.SummaryCard)
// on 127.0.0.1:`port`. Returns only when the server cannot start.
absl::Status ServeNullRpc(int port, const std::string& card_file, int max_threads);

struct NullRpcServer {
  std::unique_ptr<testing::Process> process;
  std::string address;  // 127.0.0.1:PORT
};

// Starts `self` (this benchmark's binary) with `--null_rpc_port=P --null_rpc_card=FILE` and
// waits until it answers health checks; the binary's main calls ServeNullRpc for those flags.
absl::StatusOr<NullRpcServer> StartNullRpcServer(const std::string& self,
                                                 const std::string& card_file,
                                                 const std::string& log_path);

}  // namespace kelola::bench
