#pragma once

// What a request interceptor found wrong with a call's request (a NUL in a text field, a
// client-stream message that did not parse), kept for that call until its handler asks or
// the call ends. Interceptors of a synchronous server cannot refuse a call themselves, so
// the handler answers it. Keyed by the call's ServerContext; the lock is taken only for
// calls that have a problem.

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"

namespace kelola::server {

class CallProblems {
 public:
  void Record(const grpc::ServerContextBase& call, absl::Status problem);
  // The call's problem, OK when none; Take also forgets it.
  absl::Status Find(const grpc::ServerContextBase& call) const;
  absl::Status Take(const grpc::ServerContextBase& call);
  bool Has(const grpc::ServerContextBase& call) const;
  void Forget(const grpc::ServerContextBase& call);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<const grpc::ServerContextBase*, absl::Status> problems_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::server
