#pragma once

// Runs one of the suite's service binaries as a child process for integration tests:
// on a free loopback port, with its log in a file, waiting until grpc.health.v1 answers
// SERVING. Crash tests kill it (SIGKILL) and restart it on the same port and arguments.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "libs/testing/process.h"

namespace kelola::testing {

struct ServiceProcessOptions {
  std::string name;               // binary and folder name, e.g. "customer-svc"
  std::vector<std::string> args;  // everything but --listen
  std::string log_dir;            // where <name>.log goes; required
  absl::Duration ready_timeout = absl::Seconds(20);
  int port = 0;  // 0: a free port; else this one (a peer was told it in advance)
};

// What a test client of a process started with `args` uses: mutual TLS with the process's
// own --tls_* files when it has them, else plaintext.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentialsFor(
    const std::vector<std::string>& args);

class ServiceProcess {
 public:
  // The binary is $KELOLA_BUILD_DIR/<name>/<name> (CTest sets KELOLA_BUILD_DIR).
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(ServiceProcessOptions options);
  ~ServiceProcess();

  std::string address() const;  // "127.0.0.1:PORT"
  int port() const { return port_; }
  // The process id while running, else 0 (for /proc readings in benchmarks).
  pid_t pid() const { return process_ != nullptr ? process_->pid() : 0; }

  // SIGKILL: a crash. The process is gone when this returns.
  absl::Status Kill();
  // SIGTERM and wait: a graceful stop. FAILED_PRECONDITION when the exit status is not 0.
  absl::Status Stop();
  // Starts again on the same port with the same arguments and waits for SERVING.
  absl::Status Restart();
  bool IsRunning();
  std::string LogTail(size_t max_bytes = 4096) const;
  // The credentials a test client of this process uses (ClientCredentialsFor its args).
  const std::shared_ptr<grpc::ChannelCredentials>& client_credentials() const {
    return credentials_;
  }
  // A channel to the process with those credentials.
  std::shared_ptr<grpc::Channel> Channel() const;

 private:
  explicit ServiceProcess(ServiceProcessOptions options, int port)
      : options_(std::move(options)),
        port_(port),
        credentials_(ClientCredentialsFor(options_.args)) {}
  absl::Status Launch();
  absl::Status WaitServing();

  ServiceProcessOptions options_;
  int port_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::unique_ptr<Process> process_;
};

// Waits until grpc.health.v1 on `address` says SERVING. `credentials`: null = plaintext.
absl::Status WaitForServing(const std::string& address, absl::Duration timeout,
                            std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace kelola::testing
