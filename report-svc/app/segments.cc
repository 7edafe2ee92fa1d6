#include "report-svc/app/segments.h"

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

absl::Status ReadOnly(db::Database& db, const std::function<absl::Status(db::Transaction&)>& f) {
  db::TransactionOptions read_only;
  read_only.read_only = true;
  return db.InTransaction(f, read_only);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const domain::RfmScale>> Segments::ScaleOf(
    const std::string& tenant_id, absl::TimeZone zone, absl::CivilDay today, absl::Time now) {
  {
    absl::MutexLock lock(&mu_);
    auto it = scales_.find(tenant_id);
    if (it != scales_.end() && it->second.day == today && now - it->second.computed < scale_ttl_) {
      return it->second.scale;
    }
  }
  const domain::Interval window = WindowOf(zone, today);
  std::vector<domain::RfmValues> values;
  absl::Status read = ReadOnly(db_, [&](db::Transaction& tx) -> absl::Status {
    auto sales = store::SalesByCustomer(tx, tenant_id, window.from, window.to, "");
    if (!sales.ok()) return sales.status();
    values.clear();
    for (const store::CustomerSales& s : *sales) values.push_back(ValuesOf(s, zone, today));
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  auto scale = std::make_shared<const domain::RfmScale>(values);
  absl::MutexLock lock(&mu_);
  scales_[tenant_id] = {today, now, scale};
  return scale;
}

absl::StatusOr<std::map<std::string, v1::CustomerSegment>> Segments::Of(
    const std::string& tenant_id, const std::vector<domain::CardRow>& cards, absl::TimeZone zone,
    absl::CivilDay today, absl::Time now) {
  std::map<std::string, v1::CustomerSegment> out;
  if (cards.empty()) return out;
  auto scale = ScaleOf(tenant_id, zone, today, now);
  if (!scale.ok()) return scale.status();
  std::vector<std::string> ids;
  for (const domain::CardRow& c : cards) ids.push_back(c.customer_id);
  const domain::Interval window = WindowOf(zone, today);
  std::map<std::string, domain::RfmValues> own;
  absl::Status read = ReadOnly(db_, [&](db::Transaction& tx) -> absl::Status {
    auto sales = store::SalesByCustomer(tx, tenant_id, window.from, window.to, "", &ids);
    if (!sales.ok()) return sales.status();
    own.clear();
    for (const store::CustomerSales& s : *sales) own[s.customer_id] = ValuesOf(s, zone, today);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  for (const domain::CardRow& c : cards) {
    domain::Lifetime lifetime;
    if (c.transaction_count > 0 && c.first_purchase && c.last_purchase) {
      lifetime.first_purchase = domain::DayOf(*c.first_purchase, zone);
      lifetime.last_purchase = domain::DayOf(*c.last_purchase, zone);
    }
    auto it = own.find(c.customer_id);
    const domain::RfmScores scores =
        (*scale)->ScoresOf(it == own.end() ? domain::RfmValues{} : it->second);
    out[c.customer_id] = domain::SegmentOf(lifetime, scores, today);
  }
  return out;
}

}  // namespace kelola::report::app
