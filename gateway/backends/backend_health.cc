#include "gateway/backends/backend_health.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kelola::gateway {

BackendHealth::BackendHealth(std::vector<Backend> backends, absl::Duration timeout)
    : timeout_(timeout) {
  for (auto& backend : backends) {
    probes_.push_back({backend.name, grpc::health::v1::Health::NewStub(backend.channel)});
  }
}

absl::Status BackendHealth::Check() const {
  std::vector<std::string> down;
  for (const auto& probe : probes_) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout_)));
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status =
        probe.stub->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
    if (!status.ok() || response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      down.push_back(probe.name);
    }
  }
  if (down.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("backends not serving: ", absl::StrJoin(down, ", ")));
}

}  // namespace kelola::gateway
