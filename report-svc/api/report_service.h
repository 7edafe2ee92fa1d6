#pragma once

// kelola.report.v1.ReportService over gRPC: reads the tenant from the request metadata,
// calls the plain classes and maps their absl::Status once, with errors::ToGrpcStatus and
// the report error domain.

#include "kelola/report/v1/report_service.grpc.pb.h"
#include "report-svc/api/summary_card_reader.h"
#include "report-svc/api/tenant_settings.h"
#include "report-svc/app/report_export.h"
#include "report-svc/app/reports.h"

namespace kelola::report {

inline constexpr char kErrorDomain[] = "report.kelola.id";

class ReportService final : public v1::ReportService::Service {
 public:
  ReportService(SummaryCardReader& cards, app::Reports& reports, app::ReportExporter& exporter,
                TenantSettingsSource& settings)
      : cards_(cards), reports_(reports), exporter_(exporter), settings_(settings) {}

  grpc::Status GetSummaryCard(grpc::ServerContext* context,
                              const v1::GetSummaryCardRequest* request,
                              v1::GetSummaryCardResponse* response) override;
  grpc::Status BatchGetSummaryCards(grpc::ServerContext* context,
                                    const v1::BatchGetSummaryCardsRequest* request,
                                    v1::BatchGetSummaryCardsResponse* response) override;
  grpc::Status GetCustomerReport(grpc::ServerContext* context,
                                 const v1::GetCustomerReportRequest* request,
                                 v1::GetCustomerReportResponse* response) override;
  grpc::Status GetReceivablesReport(grpc::ServerContext* context,
                                    const v1::GetReceivablesReportRequest* request,
                                    v1::GetReceivablesReportResponse* response) override;
  grpc::Status ListCustomerInsights(grpc::ServerContext* context,
                                    const v1::ListCustomerInsightsRequest* request,
                                    v1::ListCustomerInsightsResponse* response) override;
  grpc::Status GetSeries(grpc::ServerContext* context, const v1::GetSeriesRequest* request,
                         v1::GetSeriesResponse* response) override;
  grpc::Status ExportReport(grpc::ServerContext* context, const v1::ExportReportRequest* request,
                            grpc::ServerWriter<v1::ExportReportResponse>* writer) override;

 private:
  SummaryCardReader& cards_;
  app::Reports& reports_;
  app::ReportExporter& exporter_;
  TenantSettingsSource& settings_;
};

}  // namespace kelola::report
