// GetSeries (R6): new customers, sales or receivables per day, week or month.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/app/report_support.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {
namespace {

std::optional<domain::Granularity> GranularityOf(v1::Granularity g) {
  switch (g) {
    case v1::GRANULARITY_DAY:
      return domain::Granularity::kDay;
    case v1::GRANULARITY_WEEK:
      return domain::Granularity::kWeek;
    case v1::GRANULARITY_MONTH:
      return domain::Granularity::kMonth;
    default:
      return std::nullopt;
  }
}

struct Request {
  domain::Granularity granularity;
  std::vector<domain::Bucket> buckets;
};

absl::StatusOr<Request> CheckRequest(const v1::GetSeriesRequest& r, int max_points) {
  errors::FieldErrors fields;
  if (r.metric() != v1::SERIES_METRIC_NEW_CUSTOMERS && r.metric() != v1::SERIES_METRIC_SALES &&
      r.metric() != v1::SERIES_METRIC_RECEIVABLES) {
    fields.Add("metric", "is required (NEW_CUSTOMERS, RECEIVABLES or SALES)");
  }
  std::optional<domain::Granularity> granularity = GranularityOf(r.granularity());
  if (!granularity.has_value()) fields.Add("granularity", "is required (DAY, WEEK or MONTH)");
  auto first = RequiredDay(fields, "start_date", r.has_start_date(), r.start_date());
  auto last = RequiredDay(fields, "end_date", r.has_end_date(), r.end_date());
  if (first && last && *last < *first) fields.Add("end_date", "must not be before start_date");
  CheckId(fields, "category_id", r.category_id());
  CheckId(fields, "store_id", r.store_id());
  if (!fields.empty()) return fields.ToStatus();
  if (domain::BucketCount(*granularity, *first, *last) > max_points) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "DATE_RANGE_TOO_LONG",
                         absl::StrCat("a series has at most ", max_points, " points"),
                         {{"max_points", absl::StrCat(max_points)}},
                         {{"end_date", absl::StrCat("at most ", max_points, " buckets")}});
  }
  return Request{*granularity, domain::Buckets(*granularity, *first, *last)};
}

// The index of the bucket holding `day`; buckets are sorted and contiguous.
size_t BucketIndex(const std::vector<domain::Bucket>& buckets, absl::CivilDay day) {
  auto it = std::upper_bound(buckets.begin(), buckets.end(), day,
                             [](absl::CivilDay d, const domain::Bucket& b) { return d < b.first; });
  return static_cast<size_t>(it - buckets.begin()) - 1;
}

absl::Time SlotTime(int64_t slot) { return absl::FromUnixMicros(slot * store::kSlotMicros); }

// New customers as GetCustomerReport counts them: created (existing ones), or with a store
// filter first bought at the store.
template <typename AddAt>
void AddNewCustomers(const store::TenantFacts& facts, const v1::GetSeriesRequest& request,
                     const store::SeriesFilter& filter, AddAt add_at) {
  const CustomerIndex index(facts.Customers());
  const bool by_category = filter.category_id.has_value();
  if (request.store_id().empty()) {
    for (const customer_stream::CustomerRow& c : index.rows()) {
      if (!customer_stream::Exists(c) || !c.created.has_value()) continue;
      if (by_category && c.category_id != *filter.category_id) continue;
      add_at(*c.created, 1);
    }
    return;
  }
  for (const store::CustomerSales& s :
       facts.SalesByCustomer(absl::InfinitePast(), absl::InfiniteFuture(), request.store_id())) {
    if (by_category && index.CategoryOf(s.customer_id) != *filter.category_id) continue;
    add_at(s.first, 1);
  }
}

}  // namespace

absl::StatusOr<v1::GetSeriesResponse> ReportQueries::GetSeries(const std::string& tenant_id,
                                                               const v1::GetSeriesRequest& request,
                                                               absl::Time deadline) {
  absl::StatusOr<Request> checked = CheckRequest(request, options_.max_series_points);
  if (!checked.ok()) return checked.status();
  absl::StatusOr<Moment> moment = MomentOf(tenant_id, deadline);
  if (!moment.ok()) return moment.status();
  const absl::TimeZone zone = moment->settings.time_zone;
  const std::vector<domain::Bucket>& buckets = checked->buckets;
  const domain::Interval interval =
      domain::DaysInterval(buckets.front().first, buckets.back().last, zone);
  store::SeriesFilter filter{request.store_id(), std::nullopt};
  if (!request.category_id().empty()) filter.category_id = request.category_id();

  std::vector<int64_t> values(buckets.size(), 0);
  auto as_of = LedgerAsOf();
  if (!as_of.ok()) return as_of.status();
  absl::Status read = ReadFacts(tenant_id, [&](const store::TenantFacts& facts) -> absl::Status {
    auto add_at = [&](absl::Time t, int64_t amount) {
      if (interval.Contains(t)) values[BucketIndex(buckets, domain::DayOf(t, zone))] += amount;
    };
    if (request.metric() == v1::SERIES_METRIC_SALES) {
      for (const store::SlotAmount& s : facts.SalesBySlot(interval.from, interval.to, filter)) {
        add_at(SlotTime(s.slot), s.amount);
      }
    } else if (request.metric() == v1::SERIES_METRIC_RECEIVABLES) {
      // What was owed at each bucket's end (now, for the bucket holding today and later
      // ones): the changes before the range, then the changes bucket by bucket.
      const absl::Time until = std::min(interval.to, moment->now + absl::Microseconds(1));
      for (const store::SlotAmount& s :
           facts.ReceivableChangesBySlot(interval.from, until, filter)) {
        add_at(SlotTime(s.slot), s.amount);
      }
      int64_t running = facts.ReceivablesBefore(interval.from, filter);
      for (int64_t& v : values) v = running += v;
    } else {
      AddNewCustomers(facts, request, filter, add_at);
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;

  v1::GetSeriesResponse response;
  response.set_metric(request.metric());
  response.set_granularity(request.granularity());
  response.set_time_zone(moment->settings.time_zone_name);
  for (size_t i = 0; i < buckets.size(); ++i) {
    v1::SeriesPoint* point = response.add_points();
    *point->mutable_start_date() = time::ToDate(buckets[i].first);
    *point->mutable_end_date() = time::ToDate(buckets[i].last);
    if (request.metric() == v1::SERIES_METRIC_NEW_CUSTOMERS) {
      point->set_count(values[i]);
    } else {
      *point->mutable_amount() = MoneyOf(values[i], moment->settings.currency);
    }
  }
  if (as_of->has_value()) *response.mutable_data_as_of_time() = time::ToTimestamp(**as_of);
  return response;
}

}  // namespace kelola::report::app
