#pragma once

// The gRPC server every service runs in: listen address, grpc.health.v1 whose status
// follows a readiness check of the service's dependencies, server reflection, per-method
// Prometheus metrics, JSON logs of failed calls, keepalive, message size limits, and a
// graceful shutdown (stop accepting, drain in-flight calls within a bound).
//
// Threading: the synchronous gRPC server with a bounded thread pool. Handlers do
// blocking database work; a pool sized by `max_threads` bounds concurrency and memory,
// and keeps handler code straight-line (see docs/architecture.md).

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
#include "libs/config/config.h"
#include "libs/metrics/http_endpoint.h"
#include "libs/metrics/metrics.h"

namespace kelola::server {

struct ServerOptions {
  std::string service_name;                        // e.g. "customer-svc", for logs and metrics
  config::HostPort listen{"127.0.0.1", 0};         // gRPC address; port 0 = a free port
  std::optional<config::HostPort> metrics_listen;  // HTTP /metrics and /healthz; none = off
  int max_message_bytes = 4 * 1024 * 1024;         // larger requests get RESOURCE_EXHAUSTED
  // What gRPC itself accepts; 0 = max_message_bytes. The gateway accepts more and refuses
  // above max_message_bytes itself, with its reason (MESSAGE_TOO_LARGE).
  int max_receive_message_bytes = 0;
  // Parse and NUL-character checks of requests (libs/server/request_parsing.h,
  // request_text.h). Off for the gateway: it forwards bytes, and the backend checks them.
  bool check_requests = true;
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Connections are asked to move on (GOAWAY) after this long, so that callers resolve
  // the service's name again and spread onto replicas added since (Kubernetes scale-out);
  // calls in flight, event streams included, run to their end.
  absl::Duration max_connection_age = absl::Minutes(5);
  absl::Duration shutdown_grace = absl::Seconds(10);  // in-flight calls get this long to end
  int max_threads = 256;                              // handler threads (sync server pool)
  absl::Duration readiness_interval = absl::Seconds(1);
  // Answers every method no registered service has (the gateway's refusal of internal
  // methods); none = gRPC's plain UNIMPLEMENTED. Must outlive the host.
  grpc::CallbackGenericService* generic_service = nullptr;
  // TLS of the listening port (libs/server/transport_security.h); none = plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

// Tells whether the service's dependencies (database, peers) are usable now.
using ReadinessCheck = std::function<absl::Status()>;

class ServiceHost {
 public:
  // Builds and starts the server. `services` must outlive the host. Fails with
  // UNAVAILABLE naming the address when a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const ServerOptions& options, metrics::Registry* registry,
      const std::vector<grpc::Service*>& services, ReadinessCheck readiness);

  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  int port() const { return port_; }
  int metrics_port() const { return endpoint_ ? endpoint_->port() : 0; }
  bool ready() const { return ready_.load(); }

  // Runs before draining starts; used to end long-lived streams (WatchEvents).
  void OnShutdown(std::function<void()> fn);
  // Graceful and idempotent: health goes NOT_SERVING, shutdown hooks run, new calls are
  // refused and in-flight calls get `shutdown_grace` to finish before being cancelled.
  void Shutdown();

 private:
  ServiceHost(ServerOptions options, metrics::Registry* registry, ReadinessCheck readiness);
  void ReadinessLoop();
  void UpdateReadiness();

  ServerOptions options_;
  metrics::Registry* registry_;
  ReadinessCheck readiness_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<metrics::HttpEndpoint> endpoint_;
  int port_ = 0;
  std::atomic<bool> ready_{false};
  absl::Notification stopping_;
  std::thread readiness_thread_;
  absl::Mutex mu_;
  std::vector<std::function<void()>> on_shutdown_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts later.
// Call first thing in main, before any thread exists.
void BlockTerminationSignals();
// Waits for SIGINT or SIGTERM (blocked by BlockTerminationSignals) and returns it.
int WaitForTerminationSignal();

}  // namespace kelola::server
