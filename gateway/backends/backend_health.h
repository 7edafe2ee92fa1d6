#pragma once

// The gateway is ready when every backend answers grpc.health.v1 SERVING. Redis is not
// a readiness condition: without it the gateway still answers, only slower (G3); its
// state is exported as the gauge kelola_dependency_up{dependency="redis"}.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace kelola::gateway {

class BackendHealth {
 public:
  struct Backend {
    std::string name;  // e.g. "customer-svc"
    std::shared_ptr<grpc::Channel> channel;
  };
  explicit BackendHealth(std::vector<Backend> backends,
                         absl::Duration timeout = absl::Milliseconds(500));

  // OK when every backend is SERVING; otherwise UNAVAILABLE naming the ones that are not.
  absl::Status Check() const;

 private:
  struct Probe {
    std::string name;
    std::unique_ptr<grpc::health::v1::Health::Stub> stub;
  };
  std::vector<Probe> probes_;
  absl::Duration timeout_;
};

}  // namespace kelola::gateway
