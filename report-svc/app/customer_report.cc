// GetCustomerReport (R2): figures of a date range in the tenant's time zone.

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/app/report_support.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {
namespace {

struct Range {
  absl::CivilDay first;
  absl::CivilDay last;
  int top_limit = 10;
};

absl::StatusOr<Range> CheckRequest(const v1::GetCustomerReportRequest& r,
                                   const ReportQueriesOptions& options) {
  errors::FieldErrors fields;
  auto first = RequiredDay(fields, "start_date", r.has_start_date(), r.start_date());
  auto last = RequiredDay(fields, "end_date", r.has_end_date(), r.end_date());
  if (first && last && *last < *first) fields.Add("end_date", "must not be before start_date");
  CheckId(fields, "category_id", r.category_id());
  CheckId(fields, "store_id", r.store_id());
  if (r.top_customers_limit() < 0 || r.top_customers_limit() > options.max_top_customers) {
    fields.Add("top_customers_limit",
               absl::StrCat("must be between 0 and ", options.max_top_customers));
  }
  if (!fields.empty()) return fields.ToStatus();
  if (*last - *first + 1 > options.max_report_days) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, "DATE_RANGE_TOO_LONG",
        absl::StrCat("the range may span at most ", options.max_report_days, " days"),
        {{"max_days", absl::StrCat(options.max_report_days)}},
        {{"end_date",
          absl::StrCat("at most ", options.max_report_days, " days after start_date")}});
  }
  Range range{*first, *last, options.default_top_customers};
  if (r.top_customers_limit() > 0) range.top_limit = r.top_customers_limit();
  return range;
}

// What the report reads, in one transaction.
struct Inputs {
  std::vector<customer_stream::CustomerRow> customers;
  std::vector<store::CustomerSales> in_range;
  std::vector<store::CustomerSales> at_store;  // all-time sales at the store filter
  std::optional<absl::Time> as_of;
};

// total_customers and new_customers (docs/reports.md R2).
void CountCustomers(const v1::GetCustomerReportRequest& r, const Inputs& in,
                    const CustomerIndex& index, const domain::Interval& range,
                    v1::CustomerReport& report) {
  int64_t total = 0;
  int64_t fresh = 0;
  auto count = [&](absl::Time since) {
    if (since < range.to) ++total;
    if (range.Contains(since)) ++fresh;
  };
  if (!r.store_id().empty()) {
    for (const store::CustomerSales& s : in.at_store) {
      if (r.category_id().empty() || index.CategoryOf(s.customer_id) == r.category_id()) {
        count(s.first);
      }
    }
  } else {
    for (const customer_stream::CustomerRow& c : index.rows()) {
      if (!customer_stream::Exists(c) || !c.created.has_value()) continue;
      if (r.category_id().empty() || c.category_id == r.category_id()) count(*c.created);
    }
  }
  report.set_total_customers(total);
  report.set_new_customers(fresh);
}

void AddTopCustomers(std::vector<store::CustomerSales> active, const CustomerIndex& index,
                     int limit, absl::TimeZone zone, const std::string& currency,
                     v1::CustomerReport& report) {
  const size_t n = std::min(active.size(), static_cast<size_t>(limit));
  std::partial_sort(active.begin(), active.begin() + n, active.end(),
                    [](const store::CustomerSales& a, const store::CustomerSales& b) {
                      if (a.total != b.total) return a.total > b.total;
                      return a.customer_id < b.customer_id;
                    });
  for (size_t i = 0; i < n; ++i) {
    const store::CustomerSales& s = active[i];
    v1::TopCustomer* top = report.add_top_customers();
    top->set_rank(static_cast<int32_t>(i + 1));
    top->set_customer_id(s.customer_id);
    if (const customer_stream::CustomerRow* c = index.Find(s.customer_id)) {
      top->set_display_name(c->display_name);
      top->set_category_id(c->category_id);
    }
    *top->mutable_total_spent() = MoneyOf(s.total, currency);
    top->set_transaction_count(s.count);
    *top->mutable_last_purchase_date() = time::ToDate(domain::DayOf(s.last, zone));
  }
}

}  // namespace

absl::StatusOr<v1::GetCustomerReportResponse> ReportQueries::GetCustomerReport(
    const std::string& tenant_id, const v1::GetCustomerReportRequest& request,
    absl::Time deadline) {
  absl::StatusOr<Range> range = CheckRequest(request, options_);
  if (!range.ok()) return range.status();
  absl::StatusOr<Moment> moment = MomentOf(tenant_id, deadline);
  if (!moment.ok()) return moment.status();
  const absl::TimeZone zone = moment->settings.time_zone;
  const domain::Interval interval = domain::DaysInterval(range->first, range->last, zone);

  Inputs in;
  auto as_of = LedgerAsOf();
  if (!as_of.ok()) return as_of.status();
  in.as_of = *as_of;
  absl::Status read = ReadFacts(tenant_id, [&](const store::TenantFacts& facts) -> absl::Status {
    in.customers = facts.Customers();
    in.in_range = facts.SalesByCustomer(interval.from, interval.to, request.store_id());
    if (!request.store_id().empty()) {
      in.at_store =
          facts.SalesByCustomer(absl::InfinitePast(), absl::InfiniteFuture(), request.store_id());
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;

  const CustomerIndex index(std::move(in.customers));
  const std::string& currency = moment->settings.currency;
  v1::GetCustomerReportResponse response;
  v1::CustomerReport& report = *response.mutable_report();
  *report.mutable_start_date() = time::ToDate(range->first);
  *report.mutable_end_date() = time::ToDate(range->last);
  report.set_time_zone(moment->settings.time_zone_name);
  CountCustomers(request, in, index, interval, report);

  std::vector<store::CustomerSales> active;
  int64_t total_sales = 0;
  int64_t transactions = 0;
  for (store::CustomerSales& s : in.in_range) {
    if (!request.category_id().empty() &&
        index.CategoryOf(s.customer_id) != request.category_id()) {
      continue;
    }
    total_sales += s.total;
    transactions += s.count;
    active.push_back(std::move(s));
  }
  const int64_t active_count = static_cast<int64_t>(active.size());
  report.set_active_customers(active_count);
  *report.mutable_total_sales() = MoneyOf(total_sales, currency);
  report.set_transaction_count(transactions);
  *report.mutable_average_customer_value() =
      MoneyOf(domain::DivideHalfUp(total_sales, active_count), currency);
  *report.mutable_average_order_value() =
      MoneyOf(domain::DivideHalfUp(total_sales, transactions), currency);
  report.set_purchase_frequency_milli(domain::DivideHalfUp(transactions * 1000, active_count));
  AddTopCustomers(std::move(active), index, range->top_limit, zone, currency, report);
  if (in.as_of.has_value()) *report.mutable_data_as_of_time() = time::ToTimestamp(*in.as_of);
  return response;
}

}  // namespace kelola::report::app
