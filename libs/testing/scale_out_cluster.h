#pragma once

// The suite scaled out, as real processes on loopback, for integration tests: one Redis,
// N replicas each of customer-svc, ledger-svc and report-svc on one PostgreSQL server
// (one database per service, shared by its replicas), and M gateways. Every peer address
// is the list of all replicas (`ipv4:127.0.0.1:p1,127.0.0.1:p2,...`), which the services
// balance round robin. All processes share a fresh internal key and page-token key, as
// replicas in a deployment must.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "libs/testing/cluster.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {

struct ScaleOutOptions {
  std::string dir_prefix = "kelola-scale-out";
  int replicas = 3;  // of each backend
  int gateways = 2;
  std::vector<TestApiKey> api_keys;
  std::vector<std::string> gateway_args;  // extra flags for every gateway
  // Where the databases go; null: the test binary's SharedPostgres(). Benchmarks, which
  // have no test environment, start their own server and pass it here.
  PostgresServer* postgres = nullptr;
};

class ScaleOutCluster {
 public:
  // Needs options.postgres or the binary's shared PostgreSQL
  // (libs/testing/postgres_environment.h).
  static absl::StatusOr<std::unique_ptr<ScaleOutCluster>> Start(ScaleOutOptions options);

  std::shared_ptr<grpc::Channel> Channel(const ServiceProcess& process) const;

  std::unique_ptr<TempDir> dir;  // logs: <dir>/<service>-<i>/<service>.log
  std::unique_ptr<RedisServer> redis;
  std::vector<std::unique_ptr<ServiceProcess>> customers;
  std::vector<std::unique_ptr<ServiceProcess>> ledgers;
  std::vector<std::unique_ptr<ServiceProcess>> reports;
  std::vector<std::unique_ptr<ServiceProcess>> gateways;

 private:
  ScaleOutCluster() = default;
  absl::Status WriteKeys();
  absl::StatusOr<std::string> Database(const std::string& name);
  absl::Status StartCustomersAndLedgers(int replicas);
  absl::Status StartReports(int replicas);
  absl::Status StartGateways(const ScaleOutOptions& options);
  // Starts `name` with `args` plus the shared flags, logging to <dir>/<name>-<index>.
  absl::StatusOr<std::unique_ptr<ServiceProcess>> StartOne(const std::string& name, int index,
                                                           std::vector<std::string> args,
                                                           int port = 0);

  std::vector<std::string> shared_args_;  // --internal_key_file, --page_token_key_file
  PostgresServer* postgres_ = nullptr;    // null: SharedPostgres()
};

// "ipv4:127.0.0.1:p1,127.0.0.1:p2,..." for the processes' ports.
std::string Ipv4Target(const std::vector<int>& ports);
std::string Ipv4Target(const std::vector<std::unique_ptr<ServiceProcess>>& processes);

}  // namespace kelola::testing
