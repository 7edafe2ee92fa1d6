#pragma once

// The --tls_* flags of every process (libs/tls): read by InitService, which stops the
// process with the file named when a file is missing or wrong.
//
//   --tls_cert_file, --tls_key_file, --tls_ca_file   all three or none
//   --tls_reload_interval                            how often the files are re-read
//
// With the files, the process listens with TLS and its channels to the other services
// (PeerChannelOrDie) are mutual TLS: they show the same certificate (which must therefore
// allow both server and client authentication) and check the peer's against the CA. A
// service's port requires a client certificate from the CA; the gateway's public port asks
// for none (its callers authenticate with API keys and tokens). Without the files, plaintext,
// with a warning when the port is not on loopback. See docs/decisions/tls.md.

#include <memory>

#include "grpcpp/security/credentials.h"
#include "libs/server/service_host.h"
#include "libs/tls/tls.h"

namespace kelola::server {

// Reads the flags into `options.credentials` or exits with status 2.
void ConfigureTransportSecurity(ServerOptions& options, tls::ClientCertificates callers);

// The credentials of channels to the other services: mutual TLS from the flags, or
// plaintext when the process has none (and before InitService, in unit tests).
std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials();

}  // namespace kelola::server
