#pragma once

// A closed-loop load generator on gRPC's callback API: `outstanding` calls are kept in
// flight, each slot starting its next call from the completion of the previous one. Unlike
// RunClients (latency.h), no thread waits on a call, so on a small machine the client
// itself is not what limits the rate it measures.

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bench/harness/latency.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "libs/errors/errors.h"

namespace kelola::bench {

// Starts one asynchronous call and returns; `done` must then be called exactly once, from
// any thread, with the call's outcome.
using AsyncCall = std::function<void(std::function<void(absl::Status)> done)>;

struct ClosedLoopOptions {
  int outstanding = 64;
  absl::Duration warmup = absl::Seconds(2);     // calls ending before it are not counted
  absl::Duration duration = absl::Seconds(10);  // the measured window after the warm-up
};

// A fresh context for each call (metadata, deadline).
using ContextFactory = std::function<std::unique_ptr<grpc::ClientContext>()>;

// Starts one unary call on a stub's callback API: method(context, request, response, on_done).
template <typename Request, typename Response>
using StartFn = std::function<void(grpc::ClientContext*, const Request*, Response*,
                                   std::function<void(grpc::Status)>)>;

// An AsyncCall that sends the request `make` builds for each call (a new request id, say)
// with a context from `contexts`, and reports the call's status.
template <typename Request, typename Response>
AsyncCall UnaryCall(ContextFactory contexts, std::function<Request()> make,
                    StartFn<Request, Response> start) {
  struct Pending {
    std::unique_ptr<grpc::ClientContext> context;
    Request request;
    Response response;
  };
  return [contexts = std::move(contexts), make = std::move(make),
          start = std::move(start)](std::function<void(absl::Status)> done) {
    auto* pending = new Pending{contexts(), make(), {}};
    start(pending->context.get(), &pending->request, &pending->response,
          [pending, done = std::move(done)](grpc::Status status) {
            delete pending;
            done(errors::FromGrpcStatus(status));
          });
  };
}

// Runs the loop for warmup + duration, then waits for the calls still in flight. Counts the
// calls that started and ended inside the measured window; errors are counted apart. A
// call's `done` starts the slot's next call, so it must not run before `call` returns (as
// gRPC's callback API never does): called inline, the calls would nest on one stack.
LoadResult RunClosedLoop(const ClosedLoopOptions& options, const AsyncCall& call);

// Starts call number `index` and returns; `done` must then be called exactly once.
using IndexedAsyncCall = std::function<void(int64_t index, std::function<void(absl::Status)> done)>;

// The closed loop over a fixed number of calls, the counterpart of RunClients (latency.h):
// `outstanding` calls in flight, calls 0, 1, 2, ... started in turn until `total` have
// started or `max_duration` has passed; every call that ends is counted. As in
// RunClosedLoop, `done` must not run before `call` returns.
LoadResult RunClosedLoopCount(int outstanding, int64_t total, absl::Duration max_duration,
                              const IndexedAsyncCall& call);

// Runs an IndexedAsyncCall from a thread that waits for it (for RunClients); here `done` may
// run inline.
absl::Status CallAndWait(const IndexedAsyncCall& call, int64_t index);

}  // namespace kelola::bench
