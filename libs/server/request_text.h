#pragma once

// Text a request must never carry. A NUL character (U+0000) is valid UTF-8, so protobuf
// parses it, but PostgreSQL refuses it in text (an INTERNAL error) and no field of any
// service means anything by it. The interceptor made here looks at every string field
// (not bytes) of a single request (unary and server-streaming calls of the kelola.*
// services) and remembers the first that holds a NUL; the request is then the caller's
// fault: INVALID_ARGUMENT, reason INVALID_CHARACTER, a BadRequest and metadata `field`
// naming the field by its request path (repeated fields without an index, e.g.
// "items.sku").
//
// gRPC's synchronous server gives an interceptor no way to answer before the handler runs
// (no hijacking), so every handler asks RequestTextProblem first: ReadRequestContext,
// which every handler calls before anything else, does. A handler that did not and failed
// with INTERNAL has its status rewritten.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace kelola::server {

// OK, or INVALID_ARGUMENT (INVALID_CHARACTER) when the request of the call of `context`
// holds a NUL character in a string field.
absl::Status RequestTextProblem(const grpc::ServerContextBase& context);

// The request path of the first string field of `message` holding a NUL character ("" when
// none does).
std::string FirstFieldWithNul(const google::protobuf::Message& message);

// `domain`: the ErrorInfo domain of the service (e.g. "customer.kelola.id").
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestTextInterceptorFactory(std::string domain);

}  // namespace kelola::server
