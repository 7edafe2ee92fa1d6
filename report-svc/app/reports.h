#pragma once

// The tenant-wide reports of report-svc as one port: the customer report (R2), the
// receivables report (R3), the insight lists (R5) and the series (R6). Requests and answers
// are the contract's own messages (protos/kelola/report/v1/report_service.proto), so the
// export (R4) renders exactly what the RPCs answer. Implementations validate the request
// (INVALID_ARGUMENT with every bad field named, DATE_RANGE_TOO_LONG, INVALID_ORDER_BY,
// INVALID_FILTER, PAGE_TOKEN_*), read the projection and compute the figures that depend on
// "today" from an injected clock in the tenant's time zone.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kelola/report/v1/report_service.pb.h"

namespace kelola::report::app {

class Reports {
 public:
  virtual ~Reports() = default;

  virtual absl::StatusOr<v1::GetCustomerReportResponse> GetCustomerReport(
      const std::string& tenant_id, const v1::GetCustomerReportRequest& request,
      absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::GetReceivablesReportResponse> GetReceivablesReport(
      const std::string& tenant_id, const v1::GetReceivablesReportRequest& request,
      absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::ListCustomerInsightsResponse> ListCustomerInsights(
      const std::string& tenant_id, const v1::ListCustomerInsightsRequest& request,
      absl::Time deadline) = 0;
  virtual absl::StatusOr<v1::GetSeriesResponse> GetSeries(const std::string& tenant_id,
                                                          const v1::GetSeriesRequest& request,
                                                          absl::Time deadline) = 0;
};

}  // namespace kelola::report::app
