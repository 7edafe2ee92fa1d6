#include "bench/harness/null_rpc_server.h"

#include <time.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/harness/thread_pool.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/free_port.h"
#include "libs/testing/service_process.h"

namespace kelola::bench {
namespace {

namespace rv1 = kelola::report::v1;

// Spends `work` of this thread's CPU time (not wall time: a thread that waits for a core
// meanwhile still does the whole amount).
void Spin(absl::Duration work) {
  if (work <= absl::ZeroDuration()) return;
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return absl::DurationFromTimespec(ts);
  };
  const absl::Duration until = cpu_now() + work;
  while (cpu_now() < until) {
  }
}

class SyncService final : public rv1::ReportService::Service {
 public:
  SyncService(rv1::SummaryCard card, absl::Duration work) : card_(std::move(card)), work_(work) {}

  grpc::Status GetSummaryCard(grpc::ServerContext*, const rv1::GetSummaryCardRequest*,
                              rv1::GetSummaryCardResponse* response) override {
    Spin(work_);
    *response->mutable_card() = card_;
    return grpc::Status::OK;
  }

 private:
  const rv1::SummaryCard card_;
  const absl::Duration work_;
};

class CallbackService final : public rv1::ReportService::CallbackService {
 public:
  CallbackService(rv1::SummaryCard card, absl::Duration work, ThreadPool* pool)
      : card_(std::move(card)), work_(work), pool_(pool) {}

  grpc::ServerUnaryReactor* GetSummaryCard(grpc::CallbackServerContext* context,
                                           const rv1::GetSummaryCardRequest*,
                                           rv1::GetSummaryCardResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto answer = [this, reactor, response] {
      Spin(work_);
      *response->mutable_card() = card_;
      reactor->Finish(grpc::Status::OK);
    };
    if (pool_ == nullptr) {
      answer();
    } else {
      pool_->Post(std::move(answer));
    }
    return reactor;
  }

 private:
  const rv1::SummaryCard card_;
  const absl::Duration work_;
  ThreadPool* const pool_;  // nullptr: inline
};

}  // namespace

absl::StatusOr<NullRpcThreading> ParseNullRpcThreading(const std::string& name) {
  if (name == "sync") return NullRpcThreading::kSync;
  if (name == "callback") return NullRpcThreading::kCallback;
  if (name == "callback-pool") return NullRpcThreading::kCallbackPool;
  return absl::InvalidArgumentError(
      absl::StrCat("threading \"", name, "\": expected sync, callback or callback-pool"));
}

std::string NullRpcThreadingName(NullRpcThreading threading) {
  switch (threading) {
    case NullRpcThreading::kSync:
      return "sync";
    case NullRpcThreading::kCallback:
      return "callback";
    case NullRpcThreading::kCallbackPool:
      return "callback-pool";
  }
  return "?";
}

absl::Status ServeNullRpc(int port, const std::string& card_file, const NullRpcOptions& options) {
  std::ifstream in(card_file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  rv1::SummaryCard card;
  if (!in || !card.ParseFromString(bytes.str())) {
    return absl::InvalidArgumentError(absl::StrCat("no card in ", card_file));
  }
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<grpc::Service> service;
  if (options.threading == NullRpcThreading::kSync) {
    service = std::make_unique<SyncService>(std::move(card), options.work);
  } else {
    if (options.threading == NullRpcThreading::kCallbackPool) {
      pool = std::make_unique<ThreadPool>("null-rpc-pool", options.max_threads);
    }
    service = std::make_unique<CallbackService>(std::move(card), options.work, pool.get());
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &selected);
  if (options.threading == NullRpcThreading::kSync) {
    // As libs/server sets up every service's server.
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                                options.max_threads);
    grpc::ResourceQuota quota("null-rpc");
    quota.SetMaxThreads(options.max_threads);
    builder.SetResourceQuota(quota);
  }
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on port ", port));
  }
  server->Wait();  // until the parent kills the process
  return absl::OkStatus();
}

absl::StatusOr<NullRpcServer> StartNullRpcServer(const std::string& self,
                                                 const std::string& card_file,
                                                 const std::string& log_path,
                                                 const std::vector<std::string>& extra_args) {
  absl::Status last;
  // A port picked free may be taken before the child binds it: try another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = testing::PickFreePort();
    if (!port.ok()) return port.status();
    testing::ProcessOptions options;
    options.argv = {self, absl::StrCat("--null_rpc_port=", *port),
                    absl::StrCat("--null_rpc_card=", card_file)};
    options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
    options.log_path = log_path;
    options.stop_timeout = absl::Seconds(1);
    auto process = testing::Process::Start(std::move(options));
    if (!process.ok()) return process.status();
    NullRpcServer server{*std::move(process), absl::StrCat("127.0.0.1:", *port)};
    last = testing::WaitForServing(server.address, absl::Seconds(20));
    if (last.ok()) return server;
  }
  return last;
}

}  // namespace kelola::bench
