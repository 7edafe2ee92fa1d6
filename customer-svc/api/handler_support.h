#pragma once

// What every directory handler does the same way: the write's key, the status mapped.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/store/directory_store.h"
#include "grpcpp/support/status.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

inline constexpr char kErrorDomain[] = "customer.kelola.id";

// The one absl -> gRPC conversion of the service.
inline grpc::Status ToGrpc(const absl::Status& status) {
  return errors::ToGrpcStatus(status, kErrorDomain);
}

// Who writes, and the request's idempotency key in `scope`: its request_id with the
// fingerprint of its content (without request_id).
template <typename Request>
store::WriteOptions WriteKey(const server::RequestContext& rc, absl::string_view scope,
                             const Request& request) {
  Request copy = request;
  return app::Options(rc, scope, request.request_id(), app::Fingerprint(copy));
}

using app::FromProto;
using app::InvalidField;
using app::NotFound;
using app::ToProto;

}  // namespace kelola::customer::api
