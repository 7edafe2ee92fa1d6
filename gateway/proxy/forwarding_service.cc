#include "gateway/proxy/forwarding_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/proxy/unary_proxy_call.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {

ForwardingService::ForwardingService(
    const google::protobuf::ServiceDescriptor& service, std::string backend,
    grpc::GenericStub* stub, const Admission* admit, const BackendCallPreparer* preparer,
    size_t max_request_bytes,
    absl::flat_hash_map<std::string, grpc::internal::MethodHandler*> local) {
  for (int i = 0; i < service.method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *service.method(i);
    Route& route = routes_.emplace_back();
    route.method = absl::StrCat("/", service.full_name(), "/", method.name());
    route.backend = backend;
    route.stub = stub;
    route.client_streaming = method.client_streaming();
    route.server_streaming = method.server_streaming();
    route.max_request_bytes = max_request_bytes;
    auto own = local.find(route.method);
    if (own != local.end()) {
      const auto type = route.client_streaming   ? grpc::internal::RpcMethod::CLIENT_STREAMING
                        : route.server_streaming ? grpc::internal::RpcMethod::SERVER_STREAMING
                                                 : grpc::internal::RpcMethod::NORMAL_RPC;
      AddMethod(new grpc::internal::RpcServiceMethod(route.method.c_str(), type, own->second));
      local.erase(own);
      continue;
    }
    const Route* target = &route;
    if (!route.client_streaming && !route.server_streaming) {
      AddMethod(new grpc::internal::RpcServiceMethod(
          route.method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodRawCallback(
          i, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                 [target, admit, preparer](grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) {
                   return UnaryProxyCall::Start(context, *target, *admit, *preparer, request,
                                                response);
                 }));
      continue;
    }
    // Streams of any kind are bidirectional streams on the wire: one raw handler serves all.
    AddMethod(new grpc::internal::RpcServiceMethod(
        route.method.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING, nullptr));
    MarkMethodRawCallback(
        i, new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
               [target, admit, preparer](grpc::CallbackServerContext* context) {
                 return ProxyCall::Start(context, *target, *admit, *preparer);
               }));
  }
}

Route* ForwardingService::MutableRoute(const std::string& method) {
  for (Route& route : routes_) {
    if (route.method == method) return &route;
  }
  return nullptr;
}

grpc::ServerGenericBidiReactor* NotExposedService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  class Refusal final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Refusal(grpc::Status status) { Finish(std::move(status)); }
    void OnDone() override { delete this; }
  };
  const std::string& method = context->method();
  const bool internal =
      absl::StartsWith(method, "/kelola.") && (absl::StrContains(method, "InternalService/") ||
                                               absl::StartsWith(method, "/kelola.events."));
  if (!internal) {
    return new Refusal(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                    absl::StrCat("the gateway serves no method ", method)));
  }
  return new Refusal(errors::ToGrpcStatus(
      errors::Error(absl::StatusCode::kUnimplemented, "METHOD_NOT_EXPOSED",
                    absl::StrCat(method, " is internal to the suite and not served here"),
                    {{"method", method}}),
      kGatewayDomain));
}

}  // namespace kelola::gateway
