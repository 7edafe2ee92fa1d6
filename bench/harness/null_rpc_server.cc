#include "bench/harness/null_rpc_server.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/resource_quota.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/free_port.h"
#include "libs/testing/service_process.h"

namespace kelola::bench {
namespace {

namespace rv1 = kelola::report::v1;

class NullReportService final : public rv1::ReportService::Service {
 public:
  explicit NullReportService(rv1::SummaryCard card) : card_(std::move(card)) {}

  grpc::Status GetSummaryCard(grpc::ServerContext*, const rv1::GetSummaryCardRequest*,
                              rv1::GetSummaryCardResponse* response) override {
    *response->mutable_card() = card_;
    return grpc::Status::OK;
  }

 private:
  const rv1::SummaryCard card_;
};

}  // namespace

absl::Status ServeNullRpc(int port, const std::string& card_file, int max_threads) {
  std::ifstream in(card_file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  rv1::SummaryCard card;
  if (!in || !card.ParseFromString(bytes.str())) {
    return absl::InvalidArgumentError(absl::StrCat("no card in ", card_file));
  }
  NullReportService service(std::move(card));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &selected);
  grpc::ResourceQuota quota("null-rpc");
  quota.SetMaxThreads(max_threads);
  builder.SetResourceQuota(quota);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on port ", port));
  }
  server->Wait();  // until the parent kills the process
  return absl::OkStatus();
}

absl::StatusOr<NullRpcServer> StartNullRpcServer(const std::string& self,
                                                 const std::string& card_file,
                                                 const std::string& log_path) {
  absl::Status last;
  // A port picked free may be taken before the child binds it: try another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto port = testing::PickFreePort();
    if (!port.ok()) return port.status();
    testing::ProcessOptions options;
    options.argv = {self, absl::StrCat("--null_rpc_port=", *port),
                    absl::StrCat("--null_rpc_card=", card_file)};
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
