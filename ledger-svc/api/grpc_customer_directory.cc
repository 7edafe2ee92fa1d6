#include "ledger-svc/api/grpc_customer_directory.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "libs/errors/errors.h"
#include "libs/server/call_credentials.h"
#include "libs/server/transport_security.h"

namespace kelola::ledger {
namespace {

absl::Status Unavailable(absl::string_view why) {
  return errors::Error(absl::StatusCode::kUnavailable, "CUSTOMER_SERVICE_UNAVAILABLE",
                       absl::StrCat("customer-svc did not answer: ", why));
}

}  // namespace

GrpcCustomerDirectory::GrpcCustomerDirectory(std::shared_ptr<grpc::Channel> channel,
                                             absl::Duration max_wait)
    : stub_(customer::v1::CustomerInternalService::NewStub(channel)),
      tenants_(customer::v1::TenantService::NewStub(channel)),
      max_wait_(max_wait) {}

void GrpcCustomerDirectory::Prepare(grpc::ClientContext& context, absl::string_view tenant_id,
                                    absl::Time deadline) const {
  context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + max_wait_)));
  context.set_wait_for_ready(true);
  server::AttachServiceCredential(context, tenant_id);
}

absl::StatusOr<TenantSettings> GrpcCustomerDirectory::GetTenantSettings(absl::string_view tenant_id,
                                                                        absl::Time deadline) {
  grpc::ClientContext context;
  Prepare(context, tenant_id, deadline);
  customer::v1::GetTenantSettingsResponse response;
  const grpc::Status status =
      tenants_->GetTenantSettings(&context, customer::v1::GetTenantSettingsRequest(), &response);
  if (!status.ok()) return Unavailable(status.error_message());
  TenantSettings out;
  out.currency_code = response.settings().currency_code();
  out.time_zone = response.settings().time_zone();
  if (out.currency_code.empty()) out.currency_code = "IDR";
  if (out.time_zone.empty()) out.time_zone = "Asia/Jakarta";
  return out;
}

absl::StatusOr<CustomerCheck> GrpcCustomerDirectory::CheckForSale(absl::string_view tenant_id,
                                                                  absl::string_view customer_id,
                                                                  absl::Time deadline) {
  grpc::ClientContext context;
  Prepare(context, tenant_id, deadline);
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
    return CustomerCheck{response.category_id(), response.customer_version()};
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
