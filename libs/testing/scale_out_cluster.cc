#include "libs/testing/scale_out_cluster.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/crypto/hmac.h"
#include "libs/testing/free_port.h"
#include "libs/testing/suite.h"

namespace kelola::testing {
namespace {

// `count` distinct free ports: the peers of the services started first must be told them.
absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  std::vector<int> ports;
  while (static_cast<int>(ports.size()) < count) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    if (std::find(ports.begin(), ports.end(), *port) == ports.end()) ports.push_back(*port);
  }
  return ports;
}

}  // namespace

std::string Ipv4Target(const std::vector<int>& ports) {
  std::string target = "ipv4:";
  for (size_t i = 0; i < ports.size(); ++i) {
    absl::StrAppend(&target, i == 0 ? "" : ",", "127.0.0.1:", ports[i]);
  }
  return target;
}

std::string Ipv4Target(const std::vector<std::unique_ptr<ServiceProcess>>& processes) {
  std::vector<int> ports;
  for (const auto& process : processes) ports.push_back(process->port());
  return Ipv4Target(ports);
}

absl::StatusOr<std::unique_ptr<ScaleOutCluster>> ScaleOutCluster::Start(ScaleOutOptions options) {
  auto cluster = std::unique_ptr<ScaleOutCluster>(new ScaleOutCluster());
  auto dir = TempDir::Create(options.dir_prefix);
  if (!dir.ok()) return dir.status();
  cluster->dir = *std::move(dir);
  cluster->postgres_ = options.postgres;
  if (absl::Status s = cluster->WriteKeys(); !s.ok()) return s;
  if (absl::Status s = cluster->StartCustomersAndLedgers(options.replicas); !s.ok()) return s;
  if (absl::Status s = cluster->StartReports(options.replicas); !s.ok()) return s;
  if (absl::Status s = cluster->StartGateways(options); !s.ok()) return s;
  return cluster;
}

// Fresh per cluster, so that no other test's credential or page token is accepted; the
// same for every replica, so that a page token from one replica is good on the next.
absl::Status ScaleOutCluster::WriteKeys() {
  const std::string seed = absl::StrCat(dir->path(), absl::ToUnixNanos(absl::Now()));
  const std::string internal_key = dir->Join("internal.key");
  const std::string page_key = dir->Join("page-token.key");
  if (absl::Status s = WriteTextFile(internal_key, crypto::Sha256Hex(seed + "/internal") + "\n");
      !s.ok())
    return s;
  if (absl::Status s = WriteTextFile(page_key, crypto::Sha256Hex(seed + "/pages") + "\n"); !s.ok())
    return s;
  shared_args_ = {"--internal_key_file=" + internal_key, "--page_token_key_file=" + page_key};
  return absl::OkStatus();
}

absl::StatusOr<std::string> ScaleOutCluster::Database(const std::string& name) {
  if (postgres_ != nullptr) return postgres_->CreateUniqueDatabase(name);
  return DatabaseUrl("postgres", *dir, name);
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ScaleOutCluster::StartOne(
    const std::string& name, int index, std::vector<std::string> args, int port) {
  args.insert(args.end(), shared_args_.begin(), shared_args_.end());
  ServiceProcessOptions options{name, std::move(args), dir->Join(absl::StrCat(name, "-", index))};
  options.port = port;
  std::filesystem::create_directories(options.log_dir);
  return ServiceProcess::Start(std::move(options));
}

// customer-svc and ledger-svc call each other: ledger-svc's ports are picked first, so
// that every customer-svc replica can be told all of them before they listen. The
// customer-svc replicas' ports are picked with them: a port picked on its own once they
// started could be one of ledger-svc's, free until ledger-svc binds it (seen: a ledger-svc
// replica refused its port, and calls to it reached a customer-svc).
absl::Status ScaleOutCluster::StartCustomersAndLedgers(int replicas) {
  auto customer_db = Database("customers");
  if (!customer_db.ok()) return customer_db.status();
  auto ledger_db = Database("ledger");
  if (!ledger_db.ok()) return ledger_db.status();
  auto ports = PickFreePorts(2 * replicas);
  if (!ports.ok()) return ports.status();
  const std::vector<int> ledger_ports(ports->begin(), ports->begin() + replicas);
  for (int i = 0; i < replicas; ++i) {
    auto started = StartOne("customer-svc", i,
                            {"--db=" + *customer_db, "--ledger=" + Ipv4Target(ledger_ports)},
                            (*ports)[replicas + i]);
    if (!started.ok()) return started.status();
    customers.push_back(*std::move(started));
  }
  for (int i = 0; i < replicas; ++i) {
    auto started =
        StartOne("ledger-svc", i, {"--db=" + *ledger_db, "--customer=" + Ipv4Target(customers)},
                 ledger_ports[i]);
    if (!started.ok()) return started.status();
    ledgers.push_back(*std::move(started));
  }
  return absl::OkStatus();
}

absl::Status ScaleOutCluster::StartReports(int replicas) {
  auto report_db = Database("report");
  if (!report_db.ok()) return report_db.status();
  for (int i = 0; i < replicas; ++i) {
    auto started = StartOne("report-svc", i,
                            {"--db=" + *report_db, "--ledger=" + Ipv4Target(ledgers),
                             "--customer=" + Ipv4Target(customers)});
    if (!started.ok()) return started.status();
    reports.push_back(*std::move(started));
  }
  return absl::OkStatus();
}

absl::Status ScaleOutCluster::StartGateways(const ScaleOutOptions& options) {
  auto started_redis = RedisServer::Start();
  if (!started_redis.ok()) return started_redis.status();
  redis = *std::move(started_redis);
  const std::string keys_path = dir->Join("api-keys.jsonl");
  if (absl::Status s = WriteTextFile(keys_path, ApiKeysJsonl(options.api_keys)); !s.ok()) return s;
  std::vector<std::string> args = {
      "--customer=" + Ipv4Target(customers), "--ledger=" + Ipv4Target(ledgers),
      "--report=" + Ipv4Target(reports), "--redis=" + redis->url(), "--api_keys_file=" + keys_path};
  args.insert(args.end(), options.gateway_args.begin(), options.gateway_args.end());
  for (int i = 0; i < options.gateways; ++i) {
    auto started = StartOne("gateway", i, args);
    if (!started.ok()) return started.status();
    gateways.push_back(*std::move(started));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> ScaleOutCluster::Channel(const ServiceProcess& process) const {
  return process.Channel();
}

}  // namespace kelola::testing
