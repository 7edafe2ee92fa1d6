#include "report-svc/api/store_limits.h"

#include "absl/status/statusor.h"
#include "libs/auth/access_policy.h"
#include "libs/filter/filter.h"

namespace kelola::report {

absl::Status CheckReportStore(const auth::Principal& principal, absl::string_view store_id) {
  // No store named means every store, which a limited principal may not see.
  return auth::RequireStore(principal, store_id);
}

absl::Status CheckInsightsStore(const auth::Principal& principal,
                                const v1::ListCustomerInsightsRequest& request) {
  if (principal.stores.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<filter::FilterTerm>> terms = filter::ParseFilter(request.filter());
  if (!terms.ok()) return absl::OkStatus();
  bool named = false;
  for (const filter::FilterTerm& term : *terms) {
    // Only `store_id = "<id>"` limits the list; any other operator is refused as a filter.
    if (term.field != "store_id" || term.op != "=") continue;
    if (absl::Status s = auth::RequireStore(principal, term.value); !s.ok()) return s;
    named = true;
  }
  return named ? absl::OkStatus() : auth::RequireStore(principal, "");
}

absl::Status CheckExportStore(const auth::Principal& principal,
                              const v1::ExportReportRequest& request) {
  switch (request.report_case()) {
    case v1::ExportReportRequest::kCustomerReport:
      return CheckReportStore(principal, request.customer_report().store_id());
    case v1::ExportReportRequest::kReceivablesReport:
      return CheckReportStore(principal, request.receivables_report().store_id());
    case v1::ExportReportRequest::kCustomerInsights:
      return CheckInsightsStore(principal, request.customer_insights());
    case v1::ExportReportRequest::kSeries:
      return CheckReportStore(principal, request.series().store_id());
    case v1::ExportReportRequest::REPORT_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

}  // namespace kelola::report
