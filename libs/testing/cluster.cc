#include "libs/testing/cluster.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/internal_credential.h"
#include "libs/clock/clock.h"
#include "libs/crypto/hmac.h"
#include "libs/testing/suite.h"

namespace kelola::testing {
namespace {

std::string JsonList(const std::vector<std::string>& items) {
  return absl::StrCat("[",
                      absl::StrJoin(items, ",",
                                    [](std::string* out, const std::string& s) {
                                      absl::StrAppend(out, "\"", s, "\"");
                                    }),
                      "]");
}

absl::StatusOr<std::string> Write(const TempDir& dir, const std::string& name,
                                  const std::string& text) {
  const std::string path = dir.Join(name);
  if (absl::Status s = WriteTextFile(path, text); !s.ok()) return s;
  return path;
}

}  // namespace

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ApiKeysJsonl(const std::vector<TestApiKey>& keys) {
  std::string lines;
  for (const TestApiKey& key : keys) {
    absl::StrAppend(&lines, "{\"key_sha256\": \"", crypto::Sha256Hex(key.key), "\", \"name\": \"",
                    key.name, "\", \"tenant\": \"", key.tenant,
                    "\", \"roles\": ", JsonList(key.roles), ", \"stores\": ", JsonList(key.stores),
                    "}\n");
  }
  return lines;
}

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Start(ClusterOptions options) {
  auto cluster = std::unique_ptr<Cluster>(new Cluster());
  auto dir = TempDir::Create(options.dir_prefix);
  if (!dir.ok()) return dir.status();
  cluster->dir = *std::move(dir);
  // Fresh per cluster, so no other test's credential is ever accepted.
  cluster->internal_key_ =
      crypto::Sha256Hex(absl::StrCat(cluster->dir->path(), absl::ToUnixNanos(absl::Now())));
  auto key_path = Write(*cluster->dir, "internal.key", cluster->internal_key_ + "\n");
  if (!key_path.ok()) return key_path.status();
  cluster->key_flag_ = "--internal_key_file=" + *key_path;
  if (options.tls) {
    if (absl::Status s = cluster->MakeCertificates(); !s.ok()) return s;
  }
  if (absl::Status s = cluster->StartBackends(options); !s.ok()) return s;
  if (options.gateways > 0) {
    if (absl::Status s = cluster->StartGateways(options); !s.ok()) return s;
  }
  return cluster;
}

absl::Status Cluster::MakeCertificates() {
  auto ca = TestCertificateAuthority::Create(dir->path());
  if (!ca.ok()) return ca.status();
  tls_ca = *std::move(ca);
  auto files = tls_ca->Issue("suite", 1);
  if (!files.ok()) return files.status();
  tls_files = *std::move(files);
  // Re-read every second, so that a rotation test waits briefly.
  tls_args_ = {"--tls_cert_file=" + tls_files.cert, "--tls_key_file=" + tls_files.key,
               "--tls_ca_file=" + tls_files.ca, "--tls_reload_interval=1s"};
  return absl::OkStatus();
}

absl::Status Cluster::StartBackends(const ClusterOptions& options) {
  auto customer_db = DatabaseUrl(options.driver, *dir, "customers");
  if (!customer_db.ok()) return customer_db.status();
  auto ledger_db = DatabaseUrl(options.driver, *dir, "ledger");
  if (!ledger_db.ok()) return ledger_db.status();
  auto report_db = DatabaseUrl(options.driver, *dir, "report");
  if (!report_db.ok()) return report_db.status();
  // Without the key flag the harness starts them trusting the tenant header.
  std::vector<std::string> backend_args;
  if (!options.trust_tenant_header) backend_args.push_back(key_flag_);
  backend_args.insert(backend_args.end(), tls_args_.begin(), tls_args_.end());
  auto pair =
      StartCustomerAndLedger(dir->path(), *customer_db, *ledger_db, backend_args, backend_args);
  if (!pair.ok()) return pair.status();
  customer = std::move(pair->customer);
  ledger = std::move(pair->ledger);
  std::vector<std::string> report_args = {"--db=" + *report_db, "--ledger=" + ledger->address(),
                                          "--customer=" + customer->address()};
  report_args.insert(report_args.end(), backend_args.begin(), backend_args.end());
  auto started = ServiceProcess::Start({"report-svc", std::move(report_args), dir->path()});
  if (!started.ok()) return started.status();
  report = *std::move(started);
  return absl::OkStatus();
}

absl::Status Cluster::StartGateways(const ClusterOptions& options) {
  auto started_redis = RedisServer::Start();
  if (!started_redis.ok()) return started_redis.status();
  redis = *std::move(started_redis);
  std::vector<std::string> args = {"--customer=" + customer->address(),
                                   "--ledger=" + ledger->address(), "--report=" + report->address(),
                                   "--redis=" + redis->url(), key_flag_};
  args.insert(args.end(), tls_args_.begin(), tls_args_.end());
  auto keys_path = Write(*dir, "api-keys.jsonl", ApiKeysJsonl(options.api_keys));
  if (!keys_path.ok()) return keys_path.status();
  args.push_back("--api_keys_file=" + *keys_path);
  if (!options.jwks_json.empty()) {
    auto jwks_path = Write(*dir, "jwks.json", options.jwks_json);
    if (!jwks_path.ok()) return jwks_path.status();
    args.push_back("--jwt_jwks_file=" + *jwks_path);
    args.push_back("--jwt_issuer=" + options.jwt_issuer);
    args.push_back("--jwt_audience=" + options.jwt_audience);
  }
  args.insert(args.end(), options.gateway_args.begin(), options.gateway_args.end());
  for (int i = 0; i < options.gateways; ++i) {
    ServiceProcessOptions gateway{"gateway", args, dir->Join(absl::StrCat("gateway-", i))};
    std::filesystem::create_directories(gateway.log_dir);
    auto started = ServiceProcess::Start(std::move(gateway));
    if (!started.ok()) return started.status();
    gateways.push_back(*std::move(started));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> Cluster::Channel(const ServiceProcess& process) const {
  return process.Channel();
}

std::string Cluster::SignedCredential(const auth::Principal& principal,
                                      const std::string& caller) const {
  return auth::CredentialSigner(internal_key_, caller, RealClock::Get()).Sign(principal);
}

std::unique_ptr<grpc::ClientContext> Cluster::SignedContext(const auth::Principal& principal,
                                                            const std::string& caller) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context->AddMetadata(auth::kCredentialHeader, SignedCredential(principal, caller));
  return context;
}

}  // namespace kelola::testing
