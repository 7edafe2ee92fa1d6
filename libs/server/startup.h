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
//   --page_token_key_file=PATH    secrets signing page tokens (libs/paging); see
//                                 docs/decisions/input-validation-and-errors.md

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/server/service_host.h"

namespace kelola::server {

// Parses flags and environment, sets up logging, and returns the server options.
ServerOptions InitService(int argc, char** argv, absl::string_view service_name,
                          absl::string_view usage);

// Opens `url` (flag `setting`) and applies `migrations`, or exits.
std::unique_ptr<db::Database> OpenDatabaseOrDie(absl::string_view setting, const std::string& url,
                                                const std::vector<db::Migration>& migrations);

// A channel to a peer service: "HOST:PORT", "dns:///name:port" or "ipv4:a:p,b:p";
// load-balanced round robin over every address. Exits on an empty target.
std::shared_ptr<grpc::Channel> PeerChannelOrDie(absl::string_view setting,
                                                const std::string& target);

// Starts the host, logs the bound addresses, waits for SIGINT/SIGTERM and shuts down.
// Returns the process exit code.
int ServeUntilSignal(const ServerOptions& options, metrics::Registry* registry,
                     const std::vector<grpc::Service*>& services, ReadinessCheck readiness,
                     const std::vector<std::function<void()>>& on_shutdown = {});

}  // namespace kelola::server
