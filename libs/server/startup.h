#pragma once

// What every service's main() does the same way: read the common flags, open and migrate
// its database, start the host, wait for SIGINT/SIGTERM and shut down gracefully. Any
// failure at start ends the process with status 2 and one line naming the setting.
//
// Common flags (each also KELOLA_<NAME> in the environment):
//   --listen=HOST:PORT            gRPC address (default 127.0.0.1:0 = a free port)
//   --metrics_listen=HOST:PORT    HTTP /metrics and /healthz ("" = off)
//   --log_level=debug|info|warn|error
//   --max_message_bytes, --max_threads, --shutdown_grace
//   --page_token_key_file=PATH    secrets signing page tokens (libs/paging); required
//                                 when --listen is not loopback, unless
//                                 --allow_development_page_token_key; see
//                                 docs/decisions/input-validation-and-errors.md
//   --internal_key_file=PATH      the secret signing every internal call's credential
//                                 (libs/server/call_credentials.h); required unless
//   --trust_tenant_header         (local tests only)
//   --tls_cert_file, --tls_key_file, --tls_ca_file, --tls_reload_interval
//                                 TLS and mutual TLS (libs/server/transport_security.h)

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/server/service_host.h"

namespace kelola::server {

inline constexpr size_t kMinInternalKeyBytes = 32;

// True for a listen host that only this machine can reach: 127.x.x.x, ::1, localhost.
bool IsLoopbackHost(absl::string_view host);

// The internal key of a key file: exactly one secret line (blank lines and '#' comments
// ignored), at least kMinInternalKeyBytes printable ASCII characters without spaces.
absl::StatusOr<std::string> ReadInternalKey(const std::string& path);

// The secret shared by the services for internal calls, from --internal_key_file (read by
// InitService, which exits with status 2 on an unreadable or malformed file): sent by event
// consumers, required by the all-tenants form of WatchEvents (libs/events). "" when the
// process trusts headers (those streams are then served only to loopback peers).
std::string InternalKeyOrDie();

// What sets one process apart from the others at start.
struct ServiceTraits {
  // The process signs page tokens (every service with lists; not the gateway, which only
  // passes them on), so the page-token key is configured and, beyond loopback, required.
  bool issues_page_tokens = true;
  // The suite's public endpoint (the gateway): with TLS, its port asks callers for no
  // certificate; every other port requires one from the CA (libs/server/transport_security.h).
  bool public_endpoint = false;
};

// Parses flags and environment, sets up logging and TLS, and returns the server options.
ServerOptions InitService(int argc, char** argv, absl::string_view service_name,
                          absl::string_view usage, ServiceTraits traits = {});

// Opens `url` (flag `setting`) with `options` and applies `migrations`, or exits.
std::unique_ptr<db::Database> OpenDatabaseOrDie(absl::string_view setting, const std::string& url,
                                                const std::vector<db::Migration>& migrations,
                                                const db::DatabaseOptions& options = {});

// The arguments of every channel to a peer service: round robin over every address,
// keepalive pings every 30 s, and reconnect attempts every 100 ms growing to at most 1 s.
// gRPC's default backoff grows to 120 s, so a replica that came back after a while could go
// without calls for minutes, and a caller whose other replicas had just died was refused
// although one was up again.
grpc::ChannelArguments PeerChannelArguments();

// A channel to a peer service: "HOST:PORT", "dns:///name:port" or "ipv4:a:p,b:p", with
// PeerChannelArguments(), mutual TLS when the process has TLS files. Exits on an empty
// target.
std::shared_ptr<grpc::Channel> PeerChannelOrDie(absl::string_view setting,
                                                const std::string& target);

// Starts the host, logs the bound addresses, waits for SIGINT/SIGTERM and shuts down.
// Returns the process exit code.
int ServeUntilSignal(const ServerOptions& options, metrics::Registry* registry,
                     const std::vector<grpc::Service*>& services, ReadinessCheck readiness,
                     const std::vector<std::function<void()>>& on_shutdown = {});

}  // namespace kelola::server
