#include "gateway/proxy/unary_proxy_call.h"

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {

UnaryProxyCall* UnaryProxyCall::Start(grpc::CallbackServerContext* context, const Route& route,
                                      const Admission& admit, const BackendCallPreparer& preparer,
                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  auto* call = new UnaryProxyCall(route);
  auto principal = admit(*context, route);
  if (!principal.ok()) {
    call->Finish(errors::ToGrpcStatus(principal.status(), kGatewayDomain));
    return call;
  }
  if (request->Length() > route.max_request_bytes) {
    call->Finish(errors::ToGrpcStatus(MessageTooLarge(route, request->Length()), kGatewayDomain));
    return call;
  }
  call->principal_ = *std::move(principal);
  preparer.Prepare(call->backend_context_, *context, *call->principal_);
  // The server side stays open until Finish, so `request`, `response` and `call` outlive
  // the backend call.
  route.stub->UnaryCall(&call->backend_context_, route.method, grpc::StubOptions(), request,
                        response, [call, response](grpc::Status status) {
                          if (status.ok() && call->route_.on_response) {
                            call->route_.on_response(*call->principal_, *response);
                          }
                          call->Finish(status);
                        });
  return call;
}

void UnaryProxyCall::OnCancel() { backend_context_.TryCancel(); }

void UnaryProxyCall::OnDone() { delete this; }

}  // namespace kelola::gateway
