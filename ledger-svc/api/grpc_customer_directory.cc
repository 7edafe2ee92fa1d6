#include "ledger-svc/api/grpc_customer_directory.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::ledger {
namespace {

absl::Status Unavailable(absl::string_view why) {
  return errors::Error(absl::StatusCode::kUnavailable, "CUSTOMER_SERVICE_UNAVAILABLE",
                       absl::StrCat("customer-svc did not answer the sale check: ", why));
}

}  // namespace

GrpcCustomerDirectory::GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel,
                                             absl::Duration timeout)
    : stub_(customer::v1::CustomerInternalService::NewStub(channel)), timeout_(timeout) {}

absl::StatusOr<CustomerCheck> GrpcCustomerDirectory::CheckForSale(absl::string_view tenant_id,
                                                                  absl::string_view customer_id) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  context.AddMetadata(server::kTenantHeader, std::string(tenant_id));
  context.AddMetadata(server::kPrincipalHeader, "ledger-svc");
  customer::v1::CheckCustomerForSaleRequest request;
  request.set_customer_id(std::string(customer_id));
  customer::v1::CheckCustomerForSaleResponse response;
  const grpc::Status status = stub_->CheckCustomerForSale(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    return errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "customer not found",
                         {{"customer_id", std::string(customer_id)}});
  }
  if (!status.ok()) return Unavailable(status.error_message());
  if (response.allowed() && response.state() == customer::v1::CUSTOMER_STATE_ACTIVE) {
    return CustomerCheck{response.category_id()};
  }
  switch (response.state()) {
    case customer::v1::CUSTOMER_STATE_ARCHIVED:
    case customer::v1::CUSTOMER_STATE_MERGING:
    case customer::v1::CUSTOMER_STATE_ERASED:
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ARCHIVED",
                           "customer may not buy (archived or being merged)",
                           {{"customer_id", std::string(customer_id)}});
    case customer::v1::CUSTOMER_STATE_MERGED:
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGED",
                           "customer was merged; record the sale for the survivor",
                           {{"customer_id", std::string(customer_id)},
                            {"merged_into_customer_id", response.merged_into_customer_id()}});
    default:
      return Unavailable("unexpected answer");
  }
}

}  // namespace kelola::ledger
