#include "gateway/backends/backend_call.h"

#include "absl/time/clock.h"
#include "libs/server/request_context.h"

namespace kelola::gateway {
namespace {

// Headers passed to the backends as the caller sent them.
constexpr const char* kPassedThrough[] = {server::kRequestIdHeader, "traceparent", "tracestate"};

}  // namespace

absl::Time BackendCallPreparer::DeadlineOf(const grpc::ServerContextBase& incoming,
                                           bool streaming) const {
  const auto deadline = incoming.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) return absl::FromChrono(deadline);
  return absl::Now() + (streaming ? default_stream_deadline_ : default_deadline_);
}

void BackendCallPreparer::Prepare(grpc::ClientContext& call,
                                  const grpc::ServerContextBase& incoming,
                                  const auth::Principal& principal, bool streaming) const {
  call.set_deadline(absl::ToChronoTime(DeadlineOf(incoming, streaming)));
  call.AddMetadata(server::kTenantHeader, principal.tenant_id);
  call.AddMetadata(auth::kCredentialHeader, signer_.Sign(principal));
  const auto& metadata = incoming.client_metadata();
  for (const char* key : kPassedThrough) {
    auto it = metadata.find(key);
    if (it != metadata.end()) {
      call.AddMetadata(key, std::string(it->second.data(), it->second.size()));
    }
  }
}

}  // namespace kelola::gateway
