#pragma once

// kelola.report.v1.ReportService over gRPC: reads the tenant from the request metadata,
// calls the plain classes and maps their absl::Status once, with errors::ToGrpcStatus and
// the report error domain. RPCs not implemented yet answer UNIMPLEMENTED (the generated
// base): GetCustomerReport, GetReceivablesReport, ExportReport, ListCustomerInsights,
// GetSeries.

#include "kelola/report/v1/report_service.grpc.pb.h"
#include "report-svc/api/summary_card_reader.h"

namespace kelola::report {

inline constexpr char kErrorDomain[] = "report.kelola.id";

class ReportService final : public v1::ReportService::Service {
 public:
  explicit ReportService(SummaryCardReader& cards) : cards_(cards) {}

  grpc::Status GetSummaryCard(grpc::ServerContext* context,
                              const v1::GetSummaryCardRequest* request,
                              v1::GetSummaryCardResponse* response) override;
  grpc::Status BatchGetSummaryCards(grpc::ServerContext* context,
                                    const v1::BatchGetSummaryCardsRequest* request,
                                    v1::BatchGetSummaryCardsResponse* response) override;

 private:
  SummaryCardReader& cards_;
};

}  // namespace kelola::report
