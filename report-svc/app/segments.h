#pragma once

// The RFM segment of summary cards (R1, R5). The tenant's score distribution (who bought how
// recently, how often, how much in the 365 days before today) is computed at most once per
// `scale_ttl` and at least once a day per tenant; each card's own values are read fresh, so
// a card's segment follows the customer's newest sales at once, as the contract says.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/report/v1/summary_card.pb.h"
#include "libs/db/database.h"
#include "report-svc/domain/rfm.h"
#include "report-svc/domain/summary_card.h"

namespace kelola::report::app {

class Segments {
 public:
  explicit Segments(db::Database& db, absl::Duration scale_ttl = absl::Minutes(10))
      : db_(db), scale_ttl_(scale_ttl) {}

  // The segments of the customers of `cards` on `today` (tenant's `zone`); `now` is the
  // clock's instant (for the cache).
  absl::StatusOr<std::map<std::string, v1::CustomerSegment>> Of(
      const std::string& tenant_id, const std::vector<domain::CardRow>& cards,
      absl::TimeZone zone, absl::CivilDay today, absl::Time now);

 private:
  struct Scale {
    absl::CivilDay day;
    absl::Time computed;
    std::shared_ptr<const domain::RfmScale> scale;
  };
  absl::StatusOr<std::shared_ptr<const domain::RfmScale>> ScaleOf(const std::string& tenant_id,
                                                                  absl::TimeZone zone,
                                                                  absl::CivilDay today,
                                                                  absl::Time now);

  db::Database& db_;
  const absl::Duration scale_ttl_;
  absl::Mutex mu_;
  std::map<std::string, Scale> scales_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::report::app
