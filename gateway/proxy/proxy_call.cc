#include "gateway/proxy/proxy_call.h"

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {

absl::Status MessageTooLarge(const Route& route, size_t bytes) {
  return errors::Error(absl::StatusCode::kResourceExhausted, "MESSAGE_TOO_LARGE",
                       absl::StrCat("a request message may have at most ", route.max_request_bytes,
                                    " bytes; this one has ", bytes),
                       {{"max_bytes", absl::StrCat(route.max_request_bytes)}});
}

ProxyCall* ProxyCall::Start(grpc::CallbackServerContext* context, const Route& route,
                            const Admission& admit, const BackendCallPreparer& preparer) {
  auto* call = new ProxyCall(context, route);
  call->Begin(admit, preparer);
  return call;
}

void ProxyCall::Begin(const Admission& admit, const BackendCallPreparer& preparer) {
  auto principal = admit(*context_, route_);
  if (!principal.ok()) {
    Finish(errors::ToGrpcStatus(principal.status(), kGatewayDomain));
    return;
  }
  principal_ = *std::move(principal);
  preparer.Prepare(backend_context_, *context_, *principal_, route_.server_streaming);
  live_sides_.fetch_add(1);
  route_.stub->PrepareBidiStreamingCall(&backend_context_, route_.method, grpc::StubOptions(),
                                        &upstream_);
  // Held while the next backend read may still be started: between a read's completion and
  // the next StartRead (after the response reached the caller) the backend call must not
  // end and free its stream. Released once reading stops (StopReading).
  upstream_.AddHold();
  upstream_.StartRead(&response_);
  upstream_.StartCall();
  StartRead(&request_);
}

// The caller sent a message (ok) or ended its stream (!ok).
void ProxyCall::OnReadDone(bool ok) {
  if (!ok) {
    upstream_.StartWritesDone();
    return;
  }
  if (request_.Length() > route_.max_request_bytes) {
    too_large_ = true;
    backend_context_.TryCancel();  // the backend call ends; its OnDone finishes ours
    return;
  }
  if (route_.client_streaming) {
    upstream_.StartWrite(&request_);
  } else {
    // One request: the stream ends with it, and nothing more is read from the caller.
    upstream_.StartWriteLast(&request_, grpc::WriteOptions());
  }
}

// The request reached the backend: read the caller's next one (streams only).
void ProxyCall::Upstream::OnWriteDone(bool ok) {
  if (ok && call_->route_.client_streaming) call_->StartRead(&call_->request_);
  // !ok: the backend call is over; its OnDone brings the status.
}

// The backend sent a message (ok); !ok: no more, OnDone follows with the status.
void ProxyCall::Upstream::OnReadDone(bool ok) {
  if (!ok) {
    call_->StopReading();
    return;
  }
  if (call_->route_.on_response) call_->route_.on_response(*call_->principal_, call_->response_);
  call_->StartWrite(&call_->response_);
}

// The response reached the caller: read the backend's next one. (The hold keeps the
// backend call open meanwhile, so it cannot have ended.)
void ProxyCall::OnWriteDone(bool ok) {
  if (ok) {
    upstream_.StartRead(&response_);
    return;
  }
  backend_context_.TryCancel();  // the caller is gone
  StopReading();
}

void ProxyCall::StopReading() {
  if (!stopped_reading_.exchange(true)) upstream_.RemoveHold();
}

// The backend call is over. No response is on its way to the caller: reading stopped
// before the hold was released (StopReading), and a response is written only after a read.
void ProxyCall::Upstream::OnDone(const grpc::Status& status) {
  call_->FinishDownstream(status);
  call_->Release();
}

void ProxyCall::FinishDownstream(const grpc::Status& status) {
  if (too_large_) {
    Finish(errors::ToGrpcStatus(MessageTooLarge(route_, request_.Length()), kGatewayDomain));
    return;
  }
  Finish(status);
}

void ProxyCall::OnCancel() { backend_context_.TryCancel(); }

void ProxyCall::OnDone() { Release(); }

void ProxyCall::Release() {
  if (live_sides_.fetch_sub(1) == 1) delete this;
}

}  // namespace kelola::gateway
