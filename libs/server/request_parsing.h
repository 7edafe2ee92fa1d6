#pragma once

// Requests that cannot be parsed are the caller's fault. gRPC's synchronous server answers
// a request message that protobuf refuses (most often a proto3 string field holding
// invalid UTF-8) with a bare INTERNAL before any handler runs, and protobuf logs an error
// naming the field. The interceptor made here turns that answer into INVALID_ARGUMENT:
//   - invalid UTF-8: reason INVALID_UTF8, a BadRequest naming the field by its request path
//     (e.g. "customer.display_name"; repeated fields without an index), metadata `field`;
//   - any other unparsable message: reason INVALID_ARGUMENT, naming the message type.
// The field is learned from protobuf's log message, captured by a log handler on the
// thread that parses the request (the handler thread of the synchronous server, which also
// parses each message of a client stream inside ServerReader::Read). The message is held
// back until the interceptor sees the outcome: a request that failed to parse logs it at
// debug level; otherwise (server code parsing stored data, say) it is logged as protobuf
// logged it, at error level. Threads that serve no call log it at once.
//
// Client streams: Read() returns false both at the end of the stream and when a message
// fails to parse, and the call goes on to its handler. A handler calls
// TakeReadParseFailure after a false Read(); an unparsable message must not be taken for
// the end of the stream.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace kelola::server {

// After a client stream's Read() returned false: INVALID_ARGUMENT (reason INVALID_UTF8, the
// field named as above) when the message failed to parse, OK otherwise. Takes the failure: a
// handler that took it answers it, and a later INTERNAL of the call (a server fault) is not
// rewritten as the caller's. Only invalid UTF-8 is told apart; other malformed messages look like
// the stream's end.
absl::Status TakeReadParseFailure(const grpc::ServerContextBase& context);

// Installs the protobuf log handler (once per process; later calls do nothing).
void InstallRequestParseLogHandler();

// `domain`: the ErrorInfo domain of the service (e.g. "customer.kelola.id").
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestParseInterceptorFactory(std::string domain);

// The request path of the field protobuf names `qualified_field` ("<message type>.<field>")
// inside the request of `method` ("/package.Service/Method"); `qualified_field` itself
// when the request does not reach it.
std::string RequestFieldPath(absl::string_view method, absl::string_view qualified_field);

// The ErrorInfo domain of a service: "customer-svc" -> "customer.kelola.id".
std::string ErrorDomainOf(absl::string_view service_name);

}  // namespace kelola::server
