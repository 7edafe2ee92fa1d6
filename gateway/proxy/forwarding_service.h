#pragma once

// A backend's public service as the gateway serves it (G1): same package, service and
// method names, every method forwarded as bytes by a ProxyCall, except the methods given
// a local handler (the summary cards, served through the cache). Registered like any
// service, so reflection lists it; built from the service's descriptor, so a method added
// to a contract is forwarded without a change here.
//
// NotExposedService answers everything else: the internal services with UNIMPLEMENTED
// (METHOD_NOT_EXPOSED), unknown methods with plain UNIMPLEMENTED.

#include <deque>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "gateway/proxy/proxy_call.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"

namespace kelola::gateway {

class ForwardingService final : public grpc::Service {
 public:
  // `local`: full method name -> handler the gateway runs itself (owned by the service).
  ForwardingService(const google::protobuf::ServiceDescriptor& service, std::string backend,
                    grpc::GenericStub* stub, const Admission* admit,
                    const BackendCallPreparer* preparer, size_t max_request_bytes,
                    absl::flat_hash_map<std::string, grpc::internal::MethodHandler*> local = {});

  // The route of a method of this service, to attach a response observer; null if the
  // method is not forwarded.
  Route* MutableRoute(const std::string& method);

 private:
  std::deque<Route> routes_;  // stable addresses: method handlers point at them
};

class NotExposedService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;
};

}  // namespace kelola::gateway
