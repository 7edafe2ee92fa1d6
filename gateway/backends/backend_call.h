#pragma once

// What every call the gateway makes to a backend carries, whether forwarded as bytes
// (gateway/proxy) or made by the gateway itself (the profile, the card cache):
// - the caller's deadline, or the gateway's default when the caller set none (a longer one
//   for streams: an export may take minutes), so a slow backend never outlives the call;
// - the signed internal credential with the authenticated principal, and its tenant;
// - x-request-id and W3C trace context (traceparent, tracestate) passed through.
// Cancellation is the caller's to propagate (ClientContext::FromCallbackServerContext
// does it for the proxy; typed calls run inside the handler's deadline).

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "libs/auth/internal_credential.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

class BackendCallPreparer {
 public:
  BackendCallPreparer(const auth::CredentialSigner& signer, absl::Duration default_deadline,
                      absl::Duration default_stream_deadline)
      : signer_(signer),
        default_deadline_(default_deadline),
        default_stream_deadline_(default_stream_deadline) {}

  void Prepare(grpc::ClientContext& call, const grpc::ServerContextBase& incoming,
               const auth::Principal& principal, bool streaming = false) const;
  // The deadline a backend call gets: the caller's, or now + the default.
  absl::Time DeadlineOf(const grpc::ServerContextBase& incoming, bool streaming = false) const;

 private:
  const auth::CredentialSigner& signer_;
  const absl::Duration default_deadline_;
  const absl::Duration default_stream_deadline_;
};

}  // namespace kelola::gateway
