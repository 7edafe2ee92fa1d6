#pragma once

// The tenant-wide reports over report-svc's own projection (the Reports port): validation,
// one read-only transaction per report, and the rules of docs/reports.md ("Definitions").
// "Today" and every date range are read in the tenant's time zone, from the injected clock.
// One file per report: customer_report.cc (R2), receivables_report.cc (R3),
// customer_insights.cc (R5), series_report.cc (R6).

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "report-svc/app/reports.h"
#include "report-svc/app/tenant_settings.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {

struct ReportQueriesOptions {
  int default_page_size = 50;
  int max_page_size = 500;
  int max_report_days = 1098;  // GetCustomerReport
  int max_series_points = 400;
  int default_top_customers = 10;
  int max_top_customers = 100;
};

class ReportQueries final : public Reports {
 public:
  ReportQueries(db::Database& db, store::FactIndex& facts, const Clock& clock,
                TenantSettingsSource& settings, ReportQueriesOptions options = {})
      : db_(db), facts_(facts), clock_(clock), settings_(settings), options_(options) {}

  absl::StatusOr<v1::GetCustomerReportResponse> GetCustomerReport(
      const std::string& tenant_id, const v1::GetCustomerReportRequest& request,
      absl::Time deadline) override;
  absl::StatusOr<v1::GetReceivablesReportResponse> GetReceivablesReport(
      const std::string& tenant_id, const v1::GetReceivablesReportRequest& request,
      absl::Time deadline) override;
  absl::StatusOr<v1::ListCustomerInsightsResponse> ListCustomerInsights(
      const std::string& tenant_id, const v1::ListCustomerInsightsRequest& request,
      absl::Time deadline) override;
  absl::StatusOr<v1::GetSeriesResponse> GetSeries(const std::string& tenant_id,
                                                  const v1::GetSeriesRequest& request,
                                                  absl::Time deadline) override;

 private:
  // The tenant's settings and the clock's instant and day in its zone.
  struct Moment {
    TenantSettings settings;
    absl::Time now;
    absl::CivilDay today;
  };
  absl::StatusOr<Moment> MomentOf(const std::string& tenant_id, absl::Time deadline) const;
  // Runs `read` over the tenant's facts, brought up to date first; a database failure is
  // UNAVAILABLE STORE_UNAVAILABLE.
  absl::Status ReadFacts(const std::string& tenant_id,
                         const std::function<absl::Status(const store::TenantFacts&)>& read) const;
  // The occur_time of the newest ledger event applied (read before the facts, so it never
  // claims more than they hold).
  absl::StatusOr<std::optional<absl::Time>> LedgerAsOf() const;
  // page_size: 0 → default, above the maximum → the maximum, negative → INVALID_ARGUMENT.
  absl::StatusOr<int> PageSize(int requested) const;

  db::Database& db_;
  store::FactIndex& facts_;
  const Clock& clock_;
  TenantSettingsSource& settings_;
  const ReportQueriesOptions options_;
};

}  // namespace kelola::report::app
