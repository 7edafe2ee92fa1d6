#include "report-svc/app/report_queries.h"

#include <algorithm>

#include "libs/errors/errors.h"
#include "libs/log/log.h"

namespace kelola::report::app {

absl::StatusOr<ReportQueries::Moment> ReportQueries::MomentOf(const std::string& tenant_id,
                                                              absl::Time deadline) const {
  absl::StatusOr<TenantSettings> settings = settings_.Get(tenant_id, deadline);
  if (!settings.ok()) return settings.status();
  Moment moment{*settings, clock_.Now(), {}};
  moment.today = absl::ToCivilDay(moment.now, moment.settings.time_zone);
  return moment;
}

absl::Status ReportQueries::ReadOnly(
    const std::function<absl::Status(db::Transaction&)>& read) const {
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status status = db_.InTransaction(read, read_only);
  if (status.ok()) return status;
  log::Warn("report read failed", {{"error", std::string(status.message())}});
  return errors::Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
                       "the report store is unavailable; retry with backoff");
}

absl::StatusOr<int> ReportQueries::PageSize(int requested) const {
  if (requested < 0) {
    errors::FieldErrors fields;
    fields.Add("page_size", "must not be negative");
    return fields.ToStatus();
  }
  if (requested == 0) return options_.default_page_size;
  return std::min(requested, options_.max_page_size);
}

}  // namespace kelola::report::app
