#pragma once

// The whole suite as real processes, for integration tests: Redis, customer-svc,
// ledger-svc, report-svc and one or more gateways, on free loopback ports, each backend
// with its own database, all sharing a fresh internal key (so the backends trust only
// credentials signed with it). The gateway accepts the API keys and JWKS the test gives.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/principal.h"
#include "libs/testing/redis_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"
#include "libs/testing/test_certificates.h"

namespace kelola::testing {

struct TestApiKey {
  std::string key;  // what the client sends in x-api-key
  std::string name;
  std::string tenant;
  std::vector<std::string> roles;   // "owner", "manager", "cashier", "platform_admin"
  std::vector<std::string> stores;  // empty: every store
};

// Writes `text` to the file `path` (created or replaced).
absl::Status WriteTextFile(const std::string& path, const std::string& text);
// The gateway's --api_keys_file holding `keys` (one JSON object per line, each key only as
// its SHA-256).
std::string ApiKeysJsonl(const std::vector<TestApiKey>& keys);

struct ClusterOptions {
  std::string driver = "sqlite";  // or "postgres" (libs/testing/postgres_environment.h)
  std::string dir_prefix = "kelola-cluster";
  int gateways = 1;  // 0: backends only
  // The backends believe x-kelola-tenant (--trust_tenant_header) instead of requiring the
  // signed credential: for tests of a backend's own behaviour that call it directly.
  bool trust_tenant_header = false;
  std::vector<TestApiKey> api_keys;
  std::string jwks_json;  // empty: the gateway accepts no tokens
  std::string jwt_issuer;
  std::string jwt_audience;
  std::vector<std::string> gateway_args;  // extra flags for every gateway
  // Every process gets a certificate from a test CA (`tls_ca`): TLS on the gateway's
  // port, mutual TLS everywhere else; Channel() then speaks TLS with that certificate.
  bool tls = false;
};

class Cluster {
 public:
  static absl::StatusOr<std::unique_ptr<Cluster>> Start(ClusterOptions options);

  // A channel to one of the processes, with the credentials its flags call for.
  std::shared_ptr<grpc::Channel> Channel(const ServiceProcess& process) const;
  // The x-kelola-credential value of a call acting as `principal`, signed by `caller` the
  // way the gateway (or a service) signs it; and a context for a direct call carrying it.
  std::string SignedCredential(const auth::Principal& principal,
                               const std::string& caller = "gateway") const;
  std::unique_ptr<grpc::ClientContext> SignedContext(const auth::Principal& principal,
                                                     const std::string& caller = "gateway") const;
  const std::string& internal_key() const { return internal_key_; }

  std::unique_ptr<TempDir> dir;
  std::unique_ptr<RedisServer> redis;
  std::unique_ptr<ServiceProcess> customer;
  std::unique_ptr<ServiceProcess> ledger;
  std::unique_ptr<ServiceProcess> report;
  std::vector<std::unique_ptr<ServiceProcess>> gateways;
  // With ClusterOptions::tls: the CA, and the files every process was started with
  // (rotate them with tls_ca->Issue("suite", serial)).
  std::optional<TestCertificateAuthority> tls_ca;
  tls::TlsFiles tls_files;

 private:
  absl::Status StartBackends(const ClusterOptions& options);
  absl::Status StartGateways(const ClusterOptions& options);
  absl::Status MakeCertificates();

  std::string internal_key_;
  std::string key_flag_;               // --internal_key_file=...
  std::vector<std::string> tls_args_;  // --tls_*=... for every process
};

}  // namespace kelola::testing
