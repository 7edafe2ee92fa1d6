#include "report-svc/api/report_service.h"

#include <chrono>

#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::report {
namespace {

absl::Time CallDeadline(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// Runs `read` for the call's tenant and stores its answer in `response`.
template <typename Response, typename Read>
grpc::Status Answer(grpc::ServerContext* context, Response* response, Read read) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return errors::ToGrpcStatus(rc.status(), kErrorDomain);
  absl::StatusOr<Response> answer = read(rc->tenant_id, CallDeadline(*context));
  if (!answer.ok()) return errors::ToGrpcStatus(answer.status(), kErrorDomain);
  *response = std::move(*answer);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ReportService::GetSummaryCard(grpc::ServerContext* context,
                                           const v1::GetSummaryCardRequest* request,
                                           v1::GetSummaryCardResponse* response) {
  return Answer(context, response, [&](const std::string& tenant, absl::Time deadline) {
    return cards_.Get(tenant, *request, deadline);
  });
}

grpc::Status ReportService::BatchGetSummaryCards(grpc::ServerContext* context,
                                                 const v1::BatchGetSummaryCardsRequest* request,
                                                 v1::BatchGetSummaryCardsResponse* response) {
  return Answer(context, response, [&](const std::string& tenant, absl::Time deadline) {
    return cards_.BatchGet(tenant, *request, deadline);
  });
}

}  // namespace kelola::report
