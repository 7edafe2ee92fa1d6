#include "libs/server/transport_security.h"

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "libs/config/config.h"
#include "libs/log/log.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of this process: served on --listen and shown to the other "
          "services (needs serverAuth and clientAuth). With --tls_key_file and --tls_ca_file; "
          "empty = plaintext");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM CA bundle the other services' certificates must chain to (mutual TLS)");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Seconds(60),
          "how often the TLS files are re-read, so that rotated certificates take effect "
          "without a restart");

namespace kelola::server {
namespace {

std::shared_ptr<grpc::ChannelCredentials>& ConfiguredPeerCredentials() {
  static auto* credentials = new std::shared_ptr<grpc::ChannelCredentials>();
  return *credentials;
}

const char* MissingFlag(const tls::TlsFiles& files) {
  if (files.cert.empty()) return "--tls_cert_file";
  if (files.key.empty()) return "--tls_key_file";
  if (files.ca.empty()) return "--tls_ca_file";
  return nullptr;
}

}  // namespace

void ConfigureTransportSecurity(ServerOptions& options, tls::ClientCertificates callers) {
  tls::TlsFiles files;
  files.cert = absl::GetFlag(FLAGS_tls_cert_file);
  files.key = absl::GetFlag(FLAGS_tls_key_file);
  files.ca = absl::GetFlag(FLAGS_tls_ca_file);
  files.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  if (files.empty()) {
    if (!IsLoopbackHost(options.listen.host)) {
      log::Warn("no --tls_cert_file: gRPC is plaintext on a port beyond loopback",
                {{"listen", options.listen.ToString()}});
    }
    return;
  }
  if (const char* missing = MissingFlag(files); missing != nullptr) {
    config::Die(missing, absl::InvalidArgumentError(
                             "--tls_cert_file, --tls_key_file and --tls_ca_file go together"));
  }
  if (files.reload_interval < absl::Seconds(1)) {
    config::Die("--tls_reload_interval", absl::InvalidArgumentError("must be at least 1s"));
  }
  if (absl::Status checked = tls::CheckFiles(files); !checked.ok()) {
    config::Die("TLS", checked);
  }
  // A watcher each: with one shared by both, the server kept its first certificate after
  // a rotation (tls_test).
  options.credentials = tls::ServerCredentials(tls::WatchFiles(files), callers);
  ConfiguredPeerCredentials() = tls::ChannelCredentials(files);
  log::Info("TLS on", {{"mutual", callers == tls::ClientCertificates::kRequire ? "yes" : "no"},
                       {"reload_interval", absl::FormatDuration(files.reload_interval)}});
}

std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials() {
  if (ConfiguredPeerCredentials() == nullptr) return grpc::InsecureChannelCredentials();
  return ConfiguredPeerCredentials();
}

}  // namespace kelola::server
