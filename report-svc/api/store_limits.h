#pragma once

// The store limit of the reports (report_service.proto, "Roles (G4)"): a principal limited
// to some stores must name one of them in store_id for every tenant-wide report
// (GetCustomerReport, GetReceivablesReport, ListCustomerInsights, GetSeries, ExportReport),
// else PERMISSION_DENIED (STORE_NOT_ALLOWED, metadata store_id); summary cards are not
// limited. A principal without a store limit passes every check.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kelola/report/v1/report_service.pb.h"
#include "libs/auth/principal.h"

namespace kelola::report {

// For a report whose request has a store_id field ("" when none is named).
absl::Status CheckReportStore(const auth::Principal& principal, absl::string_view store_id);

// ListCustomerInsights names its store in the filter (store_id = "<id>"). A filter that
// cannot be read passes here: the report refuses it (INVALID_FILTER) without reading data.
absl::Status CheckInsightsStore(const auth::Principal& principal,
                                const v1::ListCustomerInsightsRequest& request);

// The store of the embedded report. No report passes: the export refuses it.
absl::Status CheckExportStore(const auth::Principal& principal,
                              const v1::ExportReportRequest& request);

}  // namespace kelola::report
