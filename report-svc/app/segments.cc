#include "report-svc/app/segments.h"

#include "libs/log/log.h"
#include "libs/threads/thread_name.h"
#include "report-svc/domain/calendar.h"

namespace kelola::report::app {
namespace {

domain::RfmValues ValuesOf(const store::CustomerSales& s, absl::TimeZone zone,
                           absl::CivilDay today) {
  if (s.count == 0) return {};
  return {s.count, s.total, static_cast<int32_t>(today - domain::DayOf(s.last, zone))};
}

}  // namespace

domain::Interval Segments::WindowOf(absl::TimeZone zone, absl::CivilDay today) {
  return domain::DaysInterval(today - (domain::kRfmWindowDays - 1), today, zone);
}

v1::CustomerSegment Segments::SegmentOf(const domain::CardRow& card,
                                        const store::CustomerSales& window_sales,
                                        const domain::RfmScale& scale, absl::TimeZone zone,
                                        absl::CivilDay today) {
  domain::Lifetime lifetime;
  if (card.transaction_count > 0 && card.first_purchase && card.last_purchase) {
    lifetime.first_purchase = domain::DayOf(*card.first_purchase, zone);
    lifetime.last_purchase = domain::DayOf(*card.last_purchase, zone);
  }
  return domain::SegmentOf(lifetime, scale.ScoresOf(ValuesOf(window_sales, zone, today)), today);
}

Segments::Segments(store::FactIndex& facts, SegmentsOptions options)
    : facts_(facts), options_(options) {
  if (!options_.compute_inline) worker_ = threads::Start("segments", [this] { Work(); });
}

Segments::~Segments() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

absl::StatusOr<Segments::Scale> Segments::Compute(const Job& job) {
  const domain::Interval window = WindowOf(job.zone, job.today);
  std::vector<domain::RfmValues> values;
  absl::Status read = facts_.Read(job.tenant_id, [&](const store::TenantFacts& facts) {
    for (const store::CustomerSales& s : facts.SalesByCustomer(window.from, window.to, "")) {
      values.push_back(ValuesOf(s, job.zone, job.today));
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  return Scale{job.today, job.now, std::make_shared<const domain::RfmScale>(values)};
}

void Segments::Work() {
  while (true) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Segments* s)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->stopping_ || !s->jobs_.empty(); },
          this));
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    absl::StatusOr<Scale> scale = Compute(job);
    absl::MutexLock lock(&mu_);
    queued_.erase(job.tenant_id);
    if (scale.ok()) {
      scales_[job.tenant_id] = *scale;
    } else {
      log::Warn("segment distribution not computed",
                {{"tenant", job.tenant_id}, {"error", std::string(scale.status().message())}});
    }
  }
}

absl::StatusOr<std::shared_ptr<const domain::RfmScale>> Segments::ScaleFor(
    const std::string& tenant_id, absl::TimeZone zone, absl::CivilDay today, absl::Time now) {
  const Job job{tenant_id, zone, today, now};
  std::shared_ptr<const domain::RfmScale> scale;
  {
    absl::MutexLock lock(&mu_);
    auto it = scales_.find(tenant_id);
    const bool fresh = it != scales_.end() && it->second.day == today &&
                       now - it->second.computed < options_.scale_ttl;
    if (it != scales_.end()) scale = it->second.scale;
    if (fresh) return scale;
    if (!options_.compute_inline) {
      if (!queued_[tenant_id]) {
        queued_[tenant_id] = true;
        jobs_.push_back(job);
      }
      return scale;  // the last one (or none) until the new one is computed
    }
  }
  absl::StatusOr<Scale> computed = Compute(job);
  if (!computed.ok()) return computed.status();
  absl::MutexLock lock(&mu_);
  scales_[tenant_id] = *computed;
  return computed->scale;
}

}  // namespace kelola::report::app
