#pragma once

// GatewayService.GetCustomerProfile (G2): the customer (customer-svc), its summary card
// (CardSource: the card cache in front of report-svc), recent sales and recent payments
// (ledger-svc), fetched in parallel under one deadline, the caller's.
//
// The three backend calls start first, asynchronously; the card is read on the calling
// thread meanwhile (CardSource blocks). When report-svc cannot serve the card (UNAVAILABLE,
// PROJECTION_LAGGING, or DEADLINE_EXCEEDED with time left) the card is built from ledger-svc's
// GetCustomerLedgerStats instead (source LEDGER, segment unspecified). The parts must be in
// `reply_margin` before the caller's deadline, so that the partial answer still reaches the
// caller; calls still running then are cancelled and their parts reported as
// DEADLINE_EXCEEDED (domain gateway.kelola.id).
//
// A part that failed is UNAVAILABLE with the backend's error (code, reason, domain, message);
// a failure that carries no google.rpc.ErrorInfo (the transport's) is the gateway's own:
// BACKEND_UNAVAILABLE for UNAVAILABLE, else the code's name. Whole-call failures:
// INVALID_ARGUMENT (every bad field), customer-svc's NOT_FOUND as it is, and UNAVAILABLE
// ALL_PARTS_UNAVAILABLE when nothing could be fetched.

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/api/card_source.h"
#include "gateway/backends/backend_call.h"
#include "gateway/backends/suite_stub.h"
#include "grpcpp/server_context.h"
#include "kelola/gateway/v1/gateway_service.pb.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

struct CustomerProfilesOptions {
  // Time kept between the parts' deadline and the caller's, to send the response.
  absl::Duration reply_margin = absl::Milliseconds(20);
};

class CustomerProfiles {
 public:
  CustomerProfiles(SuiteStub& stub, CardSource& cards, const BackendCallPreparer& preparer,
                   CustomerProfilesOptions options = {})
      : stub_(stub), cards_(cards), preparer_(preparer), options_(options) {}

  absl::StatusOr<v1::GetCustomerProfileResponse> Get(const grpc::ServerContextBase& incoming,
                                                     const auth::Principal& principal,
                                                     const v1::GetCustomerProfileRequest& request);

 private:
  SuiteStub& stub_;
  CardSource& cards_;
  const BackendCallPreparer& preparer_;
  const CustomerProfilesOptions options_;
};

}  // namespace kelola::gateway
