#include "libs/testing/service_process.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/testing/free_port.h"
#include "libs/tls/tls.h"

namespace kelola::testing {

std::shared_ptr<grpc::ChannelCredentials> ClientCredentialsFor(
    const std::vector<std::string>& args) {
  tls::TlsFiles files;
  const std::pair<absl::string_view, std::string*> flags[] = {{"--tls_cert_file=", &files.cert},
                                                              {"--tls_key_file=", &files.key},
                                                              {"--tls_ca_file=", &files.ca}};
  for (const std::string& arg : args) {
    for (const auto& [flag, value] : flags) {
      if (absl::StartsWith(arg, flag)) *value = arg.substr(flag.size());
    }
  }
  // Incomplete files stop the process at start; plaintext then finds that out.
  if (files.cert.empty() || files.key.empty() || files.ca.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  files.reload_interval = absl::Seconds(1);
  return tls::ChannelCredentials(files);
}

absl::Status WaitForServing(const std::string& address, absl::Duration timeout,
                            std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, credentials));
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no answer";
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, {}, &response);
    if (status.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    last = status.ok() ? "NOT_SERVING" : status.error_message();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(address, " not SERVING: ", last));
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    ServiceProcessOptions options) {
  if (options.log_dir.empty()) return absl::InvalidArgumentError("log_dir is required");
  absl::StatusOr<int> port = options.port;
  if (options.port == 0) port = PickFreePort();
  if (!port.ok()) return port.status();
  std::unique_ptr<ServiceProcess> service(new ServiceProcess(std::move(options), *port));
  if (absl::Status launched = service->Launch(); !launched.ok()) return launched;
  return service;
}

ServiceProcess::~ServiceProcess() {
  if (process_ != nullptr) process_->Stop(SIGKILL);
}

std::string ServiceProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

std::shared_ptr<grpc::Channel> ServiceProcess::Channel() const {
  return grpc::CreateChannel(address(), credentials_);
}

absl::Status ServiceProcess::Launch() {
  const char* build_dir = std::getenv("KELOLA_BUILD_DIR");
  if (build_dir == nullptr) {
    return absl::FailedPreconditionError("KELOLA_BUILD_DIR is not set (run the tests via ctest)");
  }
  ProcessOptions process;
  process.argv = {absl::StrCat(build_dir, "/", options_.name, "/", options_.name),
                  absl::StrCat("--listen=", address())};
  process.argv.insert(process.argv.end(), options_.args.begin(), options_.args.end());
  // Tests that do not exercise authentication run the services trusting the tenant header.
  const bool keyed = std::any_of(options_.args.begin(), options_.args.end(), [](const auto& arg) {
    return absl::StartsWith(arg, "--internal_key_file=") || arg == "--trust_tenant_header";
  });
  if (!keyed) process.argv.push_back("--trust_tenant_header");
  process.log_path = absl::StrCat(options_.log_dir, "/", options_.name, ".log");
  auto started = Process::Start(std::move(process));
  if (!started.ok()) return started.status();
  process_ = *std::move(started);
  return WaitServing();
}

absl::Status ServiceProcess::WaitServing() {
  const absl::Time deadline = absl::Now() + options_.ready_timeout;
  while (absl::Now() < deadline) {
    if (!process_->IsRunning()) {
      return absl::UnavailableError(
          absl::StrCat(options_.name, " exited at start: ", process_->LogTail(1024)));
    }
    if (WaitForServing(address(), absl::Milliseconds(500), client_credentials()).ok()) {
      return absl::OkStatus();
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat(options_.name, " not SERVING in time: ", process_->LogTail(1024)));
}

absl::Status ServiceProcess::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Stop(SIGKILL);
  process_.reset();
  return absl::OkStatus();
}

absl::Status ServiceProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  ExitStatus exit = process_->Stop(SIGTERM);
  process_.reset();
  if (!exit.success()) {
    return absl::FailedPreconditionError(absl::StrCat(options_.name, " stopped with exit code ",
                                                      exit.exit_code, " signal ", exit.signal));
  }
  return absl::OkStatus();
}

absl::Status ServiceProcess::Restart() {
  if (process_ != nullptr) return absl::FailedPreconditionError("still running");
  return Launch();
}

bool ServiceProcess::IsRunning() { return process_ != nullptr && process_->IsRunning(); }

std::string ServiceProcess::LogTail(size_t max_bytes) const {
  return process_ != nullptr ? process_->LogTail(max_bytes) : "";
}

}  // namespace kelola::testing
