#include "report-svc/app/segments.h"

#include "libs/log/log.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/store/report_reads.h"

namespace kelola::report::app {
namespace {

domain::RfmValues ValuesOf(const store::CustomerSales& s, absl::TimeZone zone,
                           absl::CivilDay today) {
  return {s.count, s.total, static_cast<int32_t>(today - domain::DayOf(s.last, zone))};
}

domain::Interval WindowOf(absl::TimeZone zone, absl::CivilDay today) {
  return domain::DaysInterval(today - (domain::kRfmWindowDays - 1), today, zone);
}

}  // namespace

Segments::Segments(db::Database& db, store::FactIndex& facts, SegmentsOptions options)
    : db_(db), facts_(facts), options_(options) {
  if (!options_.compute_inline) worker_ = std::thread([this] { Work(); });
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
          +[](Segments* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return s->stopping_ || !s->jobs_.empty();
          },
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

absl::StatusOr<std::map<std::string, v1::CustomerSegment>> Segments::Of(
    const std::string& tenant_id, const std::vector<domain::CardRow>& cards, absl::TimeZone zone,
    absl::CivilDay today, absl::Time now) {
  std::map<std::string, v1::CustomerSegment> out;
  if (cards.empty()) return out;
  const Job job{tenant_id, zone, today, now};
  std::shared_ptr<const domain::RfmScale> scale;
  bool fresh = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = scales_.find(tenant_id);
    if (it != scales_.end()) {
      scale = it->second.scale;
      fresh = it->second.day == today && now - it->second.computed < options_.scale_ttl;
    }
    if (!fresh && !options_.compute_inline && !queued_[tenant_id]) {
      queued_[tenant_id] = true;
      jobs_.push_back(job);
    }
  }
  if (!fresh && options_.compute_inline) {
    absl::StatusOr<Scale> computed = Compute(job);
    if (!computed.ok()) return computed.status();
    scale = computed->scale;
    absl::MutexLock lock(&mu_);
    scales_[tenant_id] = *computed;
  }
  if (scale == nullptr) return out;  // not computed yet

  std::vector<std::string> ids;
  for (const domain::CardRow& c : cards) ids.push_back(c.customer_id);
  const domain::Interval window = WindowOf(zone, today);
  std::map<std::string, domain::RfmValues> own;
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status read = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto sales = store::SalesOfCustomers(tx, tenant_id, window.from, window.to, ids);
        if (!sales.ok()) return sales.status();
        own.clear();
        for (const store::CustomerSales& s : *sales) own[s.customer_id] = ValuesOf(s, zone, today);
        return absl::OkStatus();
      },
      read_only);
  if (!read.ok()) return read;
  for (const domain::CardRow& c : cards) {
    domain::Lifetime lifetime;
    if (c.transaction_count > 0 && c.first_purchase && c.last_purchase) {
      lifetime.first_purchase = domain::DayOf(*c.first_purchase, zone);
      lifetime.last_purchase = domain::DayOf(*c.last_purchase, zone);
    }
    auto it = own.find(c.customer_id);
    const domain::RfmScores scores =
        scale->ScoresOf(it == own.end() ? domain::RfmValues{} : it->second);
    out[c.customer_id] = domain::SegmentOf(lifetime, scores, today);
  }
  return out;
}

}  // namespace kelola::report::app
