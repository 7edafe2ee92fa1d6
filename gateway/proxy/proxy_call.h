#pragma once

// One forwarded call (G1): the caller's messages go to the backend and the backend's
// back, as bytes, never re-serialized, through gRPC's callback API on both sides (no
// thread waits on the network). Every kind of RPC is handled as a bidirectional stream,
// which is what they all are on the wire; for RPCs with one request the request is sent
// with the end of the stream at once.
//
// Before anything reaches the backend the call is admitted (gateway/proxy/admission.h):
// authenticated, its tenant checked, the role policy applied, the tenant's rate limit
// taken. The backend's status, with its error details, is the caller's status.

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/backends/backend_call.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/server_callback.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

// Where a public method goes.
struct Route {
  std::string method;       // "/package.Service/Method"
  std::string backend;      // "customer-svc", for logs and errors
  grpc::GenericStub* stub;  // the backend's channel
  bool client_streaming = false;
  bool server_streaming = false;
  // A larger request message is refused with RESOURCE_EXHAUSTED, MESSAGE_TOO_LARGE.
  size_t max_request_bytes = 4 * 1024 * 1024;
  // Sees each response before the caller does (e.g. to note a ledger write's version for
  // read-your-writes); may be empty. Runs on a gRPC thread: must be quick.
  using ResponseObserver = std::function<void(const auth::Principal&, const grpc::ByteBuffer&)>;
  ResponseObserver on_response;
};

inline constexpr char kGatewayDomain[] = "gateway.kelola.id";

// RESOURCE_EXHAUSTED MESSAGE_TOO_LARGE for a request message of `bytes` over the route's limit.
absl::Status MessageTooLarge(const Route& route, size_t bytes);

// Decides whether a call may go on, and as whom.
using Admission = std::function<absl::StatusOr<std::shared_ptr<const auth::Principal>>(
    grpc::CallbackServerContext& context, const Route& route)>;

class ProxyCall final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Deletes itself when both sides are done.
  static ProxyCall* Start(grpc::CallbackServerContext* context, const Route& route,
                          const Admission& admit, const BackendCallPreparer& preparer);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  class Upstream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Upstream(ProxyCall* call) : call_(call) {}
    void OnReadDone(bool ok) override;
    void OnWriteDone(bool ok) override;
    void OnWritesDoneDone(bool /*ok*/) override {}
    void OnDone(const grpc::Status& status) override;

   private:
    ProxyCall* call_;
  };

  ProxyCall(grpc::CallbackServerContext* context, const Route& route)
      : context_(context), route_(route), upstream_(this) {}
  void Begin(const Admission& admit, const BackendCallPreparer& preparer);
  void FinishDownstream(const grpc::Status& status);
  // No more backend reads will be started: lets the backend call end.
  void StopReading();
  void Release();

  grpc::CallbackServerContext* const context_;
  const Route& route_;
  std::shared_ptr<const auth::Principal> principal_;
  grpc::ClientContext backend_context_;
  Upstream upstream_;
  grpc::ByteBuffer request_;            // the caller's message being sent to the backend
  grpc::ByteBuffer response_;           // the backend's message being sent to the caller
  std::atomic<int> live_sides_{1};      // the caller's side; +1 once the backend call starts
  std::atomic<bool> too_large_{false};  // the caller's message was over the limit
  std::atomic<bool> stopped_reading_{false};
};

}  // namespace kelola::gateway
