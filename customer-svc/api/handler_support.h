#pragma once

// What every directory handler does the same way: read the tenant, map the status.

#include "absl/status/status.h"
#include "customer-svc/app/support.h"
#include "grpcpp/support/status.h"
#include "libs/errors/errors.h"

namespace kelola::customer::api {

inline constexpr char kErrorDomain[] = "customer.kelola.id";

// The one absl -> gRPC conversion of the service.
inline grpc::Status ToGrpc(const absl::Status& status) {
  return errors::ToGrpcStatus(status, kErrorDomain);
}

using app::FromProto;
using app::InvalidField;
using app::NotFound;
using app::ToProto;

}  // namespace kelola::customer::api
