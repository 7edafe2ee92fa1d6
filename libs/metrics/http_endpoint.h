#pragma once

// A minimal HTTP/1.0 endpoint for operators: GET /metrics (Prometheus text) and
// GET /healthz (200 when ready, 503 otherwise). One background thread; each request is
// answered and the connection closed. Not a general web server.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "libs/metrics/metrics.h"

namespace kelola::metrics {

class HttpEndpoint {
 public:
  // Binds `host:port` (port 0 = any free port) and starts serving.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& host, int port,
                                                             const Registry* registry,
                                                             std::function<bool()> ready);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  int port() const { return port_; }
  void Stop();

 private:
  HttpEndpoint(int fd, int port, const Registry* registry, std::function<bool()> ready);
  void Serve();
  void Answer(int client);

  int fd_;
  int port_;
  const Registry* registry_;
  std::function<bool()> ready_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace kelola::metrics
