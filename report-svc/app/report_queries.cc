#include "report-svc/app/report_queries.h"

#include <algorithm>

#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report::app {

absl::StatusOr<ReportQueries::Moment> ReportQueries::MomentOf(const std::string& tenant_id,
                                                              absl::Time deadline) const {
  absl::StatusOr<TenantSettings> settings = settings_.Get(tenant_id, deadline);
  if (!settings.ok()) return settings.status();
  Moment moment{*settings, clock_.Now(), {}};
  moment.today = absl::ToCivilDay(moment.now, moment.settings.time_zone);
  return moment;
}

namespace {

absl::Status StoreUnavailable(const absl::Status& cause) {
  log::Warn("report read failed", {{"error", std::string(cause.message())}});
  return errors::Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
                       "the report store is unavailable; retry with backoff");
}

}  // namespace

absl::Status ReportQueries::ReadFacts(
    const std::string& tenant_id,
    const std::function<absl::Status(const store::TenantFacts&)>& read) const {
  absl::Status status = facts_.Read(tenant_id, read);
  return status.ok() ? status : StoreUnavailable(status);
}

absl::StatusOr<std::optional<absl::Time>> ReportQueries::LedgerAsOf() const {
  std::optional<absl::Time> as_of;
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto read = store::ReadLedgerAsOf(tx);
        if (!read.ok()) return read.status();
        as_of = *read;
        return absl::OkStatus();
      },
      read_only);
  if (!status.ok()) return StoreUnavailable(status);
  return as_of;
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
