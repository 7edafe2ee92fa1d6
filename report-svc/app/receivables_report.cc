// GetReceivablesReport (R3): everyone who owes, with aging computed on today's date.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/app/report_support.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {
namespace {

constexpr char kPageKind[] = "report.receivables";

bool DescendingByDefault(const std::string& field) {
  return field != "oldest_open_sale_date" && field != "display_name";
}

absl::StatusOr<SortOrder> OrderOf(const std::string& order_by) {
  return ParseOrderBy(
      order_by,
      {"balance", "oldest_open_sale_date", "days_overdue", "overdue_amount", "display_name"},
      {"balance", true}, DescendingByDefault, /*fixed_direction=*/true);
}

SortKey KeyOf(const store::Owing& o, const std::string& field, absl::TimeZone zone) {
  SortKey key;
  key.customer_id = *o.customer_id;
  if (field == "balance") key.number = o.balance;
  if (field == "overdue_amount") key.number = o.overdue;
  if (field == "days_overdue") key.number = o.days_overdue;
  if (field == "oldest_open_sale_date") {
    key.number = domain::DayOf(o.oldest_sale_time, zone) - absl::CivilDay(1970, 1, 1);
  }
  if (field == "display_name") key.text = o.customer->display_name;
  return key;
}

v1::AgingBuckets AgingOf(const int64_t (&aging)[4], const std::string& currency) {
  v1::AgingBuckets b;
  *b.mutable_age_0_to_30_days() = MoneyOf(aging[0], currency);
  *b.mutable_age_31_to_60_days() = MoneyOf(aging[1], currency);
  *b.mutable_age_61_to_90_days() = MoneyOf(aging[2], currency);
  *b.mutable_age_over_90_days() = MoneyOf(aging[3], currency);
  return b;
}

v1::ReceivablesTotals TotalsOf(const std::vector<const store::Owing*>& rows,
                               const std::string& currency) {
  int64_t balance = 0;
  int64_t overdue = 0;
  int64_t aging[4] = {0, 0, 0, 0};
  for (const store::Owing* o : rows) {
    balance += o->balance;
    overdue += o->overdue;
    for (int i = 0; i < 4; ++i) aging[i] += o->aging[i];
  }
  v1::ReceivablesTotals totals;
  totals.set_customer_count(static_cast<int64_t>(rows.size()));
  *totals.mutable_total_balance() = MoneyOf(balance, currency);
  *totals.mutable_aging() = AgingOf(aging, currency);
  *totals.mutable_total_overdue_amount() = MoneyOf(overdue, currency);
  return totals;
}

v1::ReceivablesReportRow RowOf(const store::Owing& o, absl::TimeZone zone,
                               const std::string& currency) {
  v1::ReceivablesReportRow row;
  row.set_customer_id(*o.customer_id);
  row.set_display_name(o.customer->display_name);
  row.set_phone_e164(o.customer->phone_e164);
  row.set_category_id(o.customer->category_id);
  *row.mutable_balance() = MoneyOf(o.balance, currency);
  *row.mutable_aging() = AgingOf(o.aging, currency);
  *row.mutable_overdue_amount() = MoneyOf(o.overdue, currency);
  row.set_days_overdue(o.days_overdue);
  *row.mutable_oldest_open_sale_date() = time::ToDate(domain::DayOf(o.oldest_sale_time, zone));
  if (o.last_payment.has_value()) {
    *row.mutable_last_payment_date() = time::ToDate(domain::DayOf(*o.last_payment, zone));
  }
  row.set_ledger_version(o.card->ledger_version);
  return row;
}

}  // namespace

absl::StatusOr<v1::GetReceivablesReportResponse> ReportQueries::GetReceivablesReport(
    const std::string& tenant_id, const v1::GetReceivablesReportRequest& request,
    absl::Time deadline) {
  errors::FieldErrors fields;
  CheckId(fields, "category_id", request.category_id());
  CheckId(fields, "store_id", request.store_id());
  if (!fields.empty()) return fields.ToStatus();
  absl::StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<SortOrder> order = OrderOf(request.order_by());
  if (!order.ok()) return order.status();
  absl::StatusOr<Moment> moment = MomentOf(tenant_id, deadline);
  if (!moment.ok()) return moment.status();
  auto as_of = LedgerAsOf();
  if (!as_of.ok()) return as_of.status();
  const absl::TimeZone zone = moment->settings.time_zone;
  const std::string& currency = moment->settings.currency;
  const PageRequest page_request{
      *page_size, request.page_token(), kPageKind, tenant_id,
      absl::StrCat(request.category_id().size(), ":", request.category_id(), "|",
                   request.store_id().size(), ":", request.store_id(), "|", request.overdue_only(),
                   "|", order->field)};

  v1::GetReceivablesReportResponse response;
  absl::Status page_status;
  absl::Status read = ReadFacts(tenant_id, [&](const store::TenantFacts& facts) -> absl::Status {
    const std::vector<store::Owing> owing =
        facts.OwingCustomers(request.store_id(), zone, moment->today);
    std::vector<const store::Owing*> rows;
    for (const store::Owing& o : owing) {
      if (!request.category_id().empty() && o.customer->category_id != request.category_id()) {
        continue;
      }
      if (request.overdue_only() && o.overdue <= 0) continue;
      rows.push_back(&o);
    }
    *response.mutable_totals() = TotalsOf(rows, currency);
    absl::StatusOr<SortedPage> page = SortAndSlice(
        rows.size(), [&](size_t i) { return KeyOf(*rows[i], order->field, zone); }, *order,
        page_request);
    if (!page.ok()) {
      page_status = page.status();
      return absl::OkStatus();
    }
    for (size_t i : page->rows) *response.add_rows() = RowOf(*rows[i], zone, currency);
    response.set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  if (!page_status.ok()) return page_status;
  *response.mutable_as_of_date() = time::ToDate(moment->today);
  if (as_of->has_value()) *response.mutable_data_as_of_time() = time::ToTimestamp(**as_of);
  return response;
}

}  // namespace kelola::report::app
