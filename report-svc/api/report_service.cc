#include "report-svc/api/report_service.h"

#include <chrono>

#include "libs/errors/errors.h"
#include "libs/server/request_context.h"
#include "report-svc/api/store_limits.h"

namespace kelola::report {
namespace {

absl::Time CallDeadline(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

absl::Status NotLimited(const auth::Principal&) { return absl::OkStatus(); }

// Runs `read` for the call's tenant, once `allowed` passed for its principal (the store
// limit, store_limits.h), and stores its answer in `response`.
template <typename Response, typename Allowed, typename Read>
grpc::Status Answer(grpc::ServerContext* context, Response* response, Allowed allowed, Read read) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return errors::ToGrpcStatus(rc.status(), kErrorDomain);
  if (absl::Status s = allowed(rc->identity); !s.ok()) {
    return errors::ToGrpcStatus(s, kErrorDomain);
  }
  absl::StatusOr<Response> answer = read(rc->tenant_id, CallDeadline(*context));
  if (!answer.ok()) return errors::ToGrpcStatus(answer.status(), kErrorDomain);
  *response = std::move(*answer);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ReportService::GetSummaryCard(grpc::ServerContext* context,
                                           const v1::GetSummaryCardRequest* request,
                                           v1::GetSummaryCardResponse* response) {
  return Answer(context, response, NotLimited, [&](const std::string& tenant, absl::Time deadline) {
    return cards_.Get(tenant, *request, deadline);
  });
}

grpc::Status ReportService::BatchGetSummaryCards(grpc::ServerContext* context,
                                                 const v1::BatchGetSummaryCardsRequest* request,
                                                 v1::BatchGetSummaryCardsResponse* response) {
  return Answer(context, response, NotLimited, [&](const std::string& tenant, absl::Time deadline) {
    return cards_.BatchGet(tenant, *request, deadline);
  });
}

grpc::Status ReportService::GetCustomerReport(grpc::ServerContext* context,
                                              const v1::GetCustomerReportRequest* request,
                                              v1::GetCustomerReportResponse* response) {
  const auto allowed = [&](const auth::Principal& principal) {
    return CheckReportStore(principal, request->store_id());
  };
  return Answer(context, response, allowed, [&](const std::string& tenant, absl::Time deadline) {
    return reports_.GetCustomerReport(tenant, *request, deadline);
  });
}

grpc::Status ReportService::GetReceivablesReport(grpc::ServerContext* context,
                                                 const v1::GetReceivablesReportRequest* request,
                                                 v1::GetReceivablesReportResponse* response) {
  const auto allowed = [&](const auth::Principal& principal) {
    return CheckReportStore(principal, request->store_id());
  };
  return Answer(context, response, allowed, [&](const std::string& tenant, absl::Time deadline) {
    return reports_.GetReceivablesReport(tenant, *request, deadline);
  });
}

grpc::Status ReportService::ListCustomerInsights(grpc::ServerContext* context,
                                                 const v1::ListCustomerInsightsRequest* request,
                                                 v1::ListCustomerInsightsResponse* response) {
  const auto allowed = [&](const auth::Principal& principal) {
    return CheckInsightsStore(principal, *request);
  };
  return Answer(context, response, allowed, [&](const std::string& tenant, absl::Time deadline) {
    return reports_.ListCustomerInsights(tenant, *request, deadline);
  });
}

grpc::Status ReportService::GetSeries(grpc::ServerContext* context,
                                      const v1::GetSeriesRequest* request,
                                      v1::GetSeriesResponse* response) {
  const auto allowed = [&](const auth::Principal& principal) {
    return CheckReportStore(principal, request->store_id());
  };
  return Answer(context, response, allowed, [&](const std::string& tenant, absl::Time deadline) {
    return reports_.GetSeries(tenant, *request, deadline);
  });
}

grpc::Status ReportService::ExportReport(grpc::ServerContext* context,
                                         const v1::ExportReportRequest* request,
                                         grpc::ServerWriter<v1::ExportReportResponse>* writer) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.report.v1.ReportService/ExportReport");
      !denied.ok()) {
    return errors::ToGrpcStatus(denied, kErrorDomain);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return errors::ToGrpcStatus(rc.status(), kErrorDomain);
  if (absl::Status s = CheckExportStore(rc->identity, *request); !s.ok()) {
    return errors::ToGrpcStatus(s, kErrorDomain);
  }
  const absl::Time deadline = CallDeadline(*context);
  absl::StatusOr<TenantSettings> settings = settings_.Get(rc->tenant_id, deadline);
  if (!settings.ok()) return errors::ToGrpcStatus(settings.status(), kErrorDomain);
  app::ExportContext export_context;
  export_context.currency = settings->currency;
  export_context.time_zone = settings->time_zone;
  export_context.time_zone_name = settings->time_zone_name;
  export_context.language_code = settings->language_code;
  const absl::Status status =
      exporter_.Export(rc->tenant_id, export_context, *request, deadline,
                       [&](const v1::ExportReportResponse& message) -> absl::Status {
                         if (context->IsCancelled() || !writer->Write(message)) {
                           return absl::CancelledError("the client went away");
                         }
                         return absl::OkStatus();
                       });
  return errors::ToGrpcStatus(status, kErrorDomain);
}

}  // namespace kelola::report
