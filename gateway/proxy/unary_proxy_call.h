#pragma once

// A forwarded call of an RPC with one request and one response: the same as ProxyCall
// (admission, credential, deadline, bytes never parsed), but a unary call on both sides,
// which gRPC carries in one batch each way instead of a stream's five.

#include <atomic>
#include <memory>

#include "gateway/proxy/proxy_call.h"

namespace kelola::gateway {

class UnaryProxyCall final : public grpc::ServerUnaryReactor {
 public:
  // Deletes itself when done.
  static UnaryProxyCall* Start(grpc::CallbackServerContext* context, const Route& route,
                               const Admission& admit, const BackendCallPreparer& preparer,
                               const grpc::ByteBuffer* request, grpc::ByteBuffer* response);

  void OnCancel() override;
  void OnDone() override;

 private:
  explicit UnaryProxyCall(const Route& route) : route_(route) {}

  const Route& route_;
  std::shared_ptr<const auth::Principal> principal_;
  grpc::ClientContext backend_context_;
};

}  // namespace kelola::gateway
