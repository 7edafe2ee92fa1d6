#pragma once

// GetSummaryCard and BatchGetSummaryCards (R1) as a plain class: validates the request,
// reads the stored cards, waits (bounded) for min_ledger_version, and computes the figures
// that depend on the day from the injected clock in the tenant's time zone.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kelola/report/v1/report_service.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "report-svc/api/tenant_settings.h"
#include "report-svc/app/segments.h"
#include "report-svc/store/fact_index.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report {

struct SummaryCardReaderOptions {
  // How long a read waits for min_ledger_version at most (or until the call's deadline).
  absl::Duration max_wait = absl::Seconds(5);
  // How often the store is read again while waiting.
  absl::Duration poll_interval = absl::Milliseconds(20);
  // Most ids of BatchGetSummaryCards.
  int max_batch = 100;
};

class SummaryCardReader {
 public:
  // Cards come from the database; their open sales and window sales from `facts`. Without
  // `segments` cards carry no segment (CUSTOMER_SEGMENT_UNSPECIFIED).
  SummaryCardReader(db::Database& db, store::FactIndex& facts, const Clock& clock,
                    TenantSettingsSource& settings, SummaryCardReaderOptions options = {},
                    app::Segments* segments = nullptr)
      : db_(db),
        facts_(facts),
        clock_(clock),
        settings_(settings),
        options_(options),
        segments_(segments) {}

  absl::StatusOr<v1::GetSummaryCardResponse> Get(const std::string& tenant_id,
                                                 const v1::GetSummaryCardRequest& request,
                                                 absl::Time deadline);
  absl::StatusOr<v1::BatchGetSummaryCardsResponse> BatchGet(
      const std::string& tenant_id, const v1::BatchGetSummaryCardsRequest& request,
      absl::Time deadline);

 private:
  // The cards of `ids` (deduplicated), each at least at its minimum version, waiting for
  // them until min(max_wait, deadline); then PROJECTION_LAGGING for the first one behind.
  absl::StatusOr<std::vector<v1::SummaryCard>> Cards(const std::string& tenant_id,
                                                     const std::vector<std::string>& ids,
                                                     const std::map<std::string, int64_t>& min,
                                                     absl::Time deadline);

  // The cards of `ids` from their stored rows, completed from the fact index.
  absl::StatusOr<std::vector<v1::SummaryCard>> Complete(
      const std::string& tenant_id, const std::vector<std::string>& ids,
      const std::map<std::string, store::StoredCard>& stored, const TenantSettings& settings);

  db::Database& db_;
  store::FactIndex& facts_;
  const Clock& clock_;
  TenantSettingsSource& settings_;
  const SummaryCardReaderOptions options_;
  app::Segments* segments_;
};

// The card of `customer_id` from its stored row (nullptr: unknown to the read model) and
// open sales on `today`, the current day in `settings.time_zone`, with its segment of that
// day.
v1::SummaryCard ToSummaryCard(const std::string& customer_id, const domain::CardRow* row,
                              const std::vector<domain::OpenSale>& open_sales,
                              const TenantSettings& settings, absl::CivilDay today,
                              v1::CustomerSegment segment = v1::CUSTOMER_SEGMENT_UNSPECIFIED);

}  // namespace kelola::report
