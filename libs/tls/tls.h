#pragma once

// TLS of the suite (PRODUCT.md P5): the public port of the gateway speaks TLS; every call
// between the gateway and the services, and between services, is mutual TLS (each side
// shows a certificate signed by the suite's CA and checks the other's).
//
// Certificates rotate without a restart: the credentials watch the PEM files and take a
// renewed certificate, key or CA within `reload_interval` (gRPC's file-watcher provider).
// New connections get the new certificate; open ones keep theirs until they end. A
// rotation that writes a broken file keeps the last good one in force (gRPC logs it).
//
// The files are checked once at start (CheckFiles), so that a missing file, a key that
// does not belong to the certificate or a CA that is not PEM stops the process with the
// file named, instead of failing every handshake later.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"

namespace kelola::tls {

struct TlsFiles {
  std::string cert;  // PEM certificate chain of this process
  std::string key;   // PEM private key of `cert`
  std::string ca;    // PEM CA bundle that peers' certificates must chain to
  absl::Duration reload_interval = absl::Seconds(60);

  // No file named: the process speaks plaintext.
  bool empty() const { return cert.empty() && key.empty() && ca.empty(); }
};

// Whether a server asks its callers for a certificate.
enum class ClientCertificates {
  kNone,     // the gateway's public port: clients prove who they are with keys and tokens
  kRequire,  // services: only a caller with a certificate from the CA gets through
};

// All three files must be readable PEM and the key must match the certificate's public
// key: every process shows its certificate as a server and, to its peers, as a client. The
// errors name the flag of the file (`--tls_cert_file`, `--tls_key_file`, `--tls_ca_file`).
absl::Status CheckFiles(const TlsFiles& files);

// The files as gRPC follows them: a thread re-reads them every `reload_interval`. Check
// the files first: a watcher only logs a bad file.
using CertificateWatcher = std::shared_ptr<grpc::experimental::CertificateProviderInterface>;
CertificateWatcher WatchFiles(const TlsFiles& files);

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const CertificateWatcher& files,
                                                           ClientCertificates clients);
// Verifies the server's certificate against `files.ca` and its name against the target's
// host (or the channel's GRPC_SSL_TARGET_NAME_OVERRIDE_ARG); shows `files.cert`.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const CertificateWatcher& files);
// The same on a watcher of its own (clients that make one channel).
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsFiles& files);

}  // namespace kelola::tls
