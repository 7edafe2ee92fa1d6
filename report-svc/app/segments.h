#pragma once

// The RFM segment of summary cards (R1, R5). The tenant's score distribution (who bought how
// recently, how often, how much in the 365 days before today) comes from the fact index and
// is recomputed in the background when it is older than `scale_ttl` or of another day, so
// that a card read never waits for a pass over the tenant's sales; until a tenant's first
// distribution exists its cards carry no segment ("not computed yet", as the contract
// allows). Each card's own values are read from the fact index at the card's version, so a
// card's segment follows the customer's newest sales at once.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/report/v1/summary_card.pb.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/domain/rfm.h"
#include "report-svc/domain/summary_card.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {

struct SegmentsOptions {
  absl::Duration scale_ttl = absl::Minutes(10);
  // Compute a missing or stale distribution in the reading call (tests) instead of in the
  // background.
  bool compute_inline = false;
};

class Segments {
 public:
  Segments(store::FactIndex& facts, SegmentsOptions options = {});
  ~Segments();
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  // The tenant's distribution for `today` (tenant's `zone`; `now` is the clock's instant):
  // the last one computed, or nullptr while none is. A missing or stale one is recomputed
  // in the background (inline with compute_inline).
  absl::StatusOr<std::shared_ptr<const domain::RfmScale>> ScaleFor(const std::string& tenant_id,
                                                                   absl::TimeZone zone,
                                                                   absl::CivilDay today,
                                                                   absl::Time now);

  // The scoring window ending `today`.
  static domain::Interval WindowOf(absl::TimeZone zone, absl::CivilDay today);

  // A card's segment from its lifetime figures and its own sales in the window.
  static v1::CustomerSegment SegmentOf(const domain::CardRow& card,
                                       const store::CustomerSales& window_sales,
                                       const domain::RfmScale& scale, absl::TimeZone zone,
                                       absl::CivilDay today);

 private:
  struct Scale {
    absl::CivilDay day;
    absl::Time computed;
    std::shared_ptr<const domain::RfmScale> scale;
  };
  struct Job {
    std::string tenant_id;
    absl::TimeZone zone;
    absl::CivilDay today;
    absl::Time now;
  };
  // The distribution of the tenant's window, from the fact index.
  absl::StatusOr<Scale> Compute(const Job& job);
  void Work();

  store::FactIndex& facts_;
  const SegmentsOptions options_;
  absl::Mutex mu_;
  std::map<std::string, Scale> scales_ ABSL_GUARDED_BY(mu_);
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, bool> queued_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace kelola::report::app
