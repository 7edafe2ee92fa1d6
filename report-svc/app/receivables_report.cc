// GetReceivablesReport (R3): everyone who owes, with aging computed on today's date.

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

constexpr char kPageKind[] = "report.receivables";

// One customer who owes, accumulated over their open sales.
struct Owing {
  std::string customer_id;
  int64_t balance = 0;
  int64_t aging[4] = {0, 0, 0, 0};
  int64_t overdue = 0;
  int32_t days_overdue = 0;
  absl::CivilDay oldest_sale_day = absl::CivilDay::max();
};

int AgeBucket(int64_t age_days) {
  if (age_days <= 30) return 0;
  if (age_days <= 60) return 1;
  if (age_days <= 90) return 2;
  return 3;
}

bool DescendingByDefault(const std::string& field) {
  return field != "oldest_open_sale_date" && field != "display_name";
}

absl::StatusOr<SortOrder> OrderOf(const std::string& order_by) {
  return ParseOrderBy(order_by,
                      {"balance", "oldest_open_sale_date", "days_overdue", "overdue_amount",
                       "display_name"},
                      {"balance", true}, DescendingByDefault, /*fixed_direction=*/true);
}

std::map<std::string, Owing> Accumulate(const std::vector<store::OpenSale>& sales,
                                        absl::TimeZone zone, absl::CivilDay today) {
  std::map<std::string, Owing> out;
  for (const store::OpenSale& sale : sales) {
    Owing& o = out[std::string(sale.customer_id)];
    o.customer_id = std::string(sale.customer_id);
    const absl::CivilDay day = domain::DayOf(sale.sale_time, zone);
    o.balance += sale.outstanding;
    o.aging[AgeBucket(std::max<int64_t>(0, today - day))] += sale.outstanding;
    o.oldest_sale_day = std::min(o.oldest_sale_day, day);
    if (sale.due_date.has_value() && today > *sale.due_date) {
      o.overdue += sale.outstanding;
      o.days_overdue = std::max(o.days_overdue, static_cast<int32_t>(today - *sale.due_date));
    }
  }
  return out;
}

SortKey KeyOf(const Owing& o, const CustomerIndex& index, const std::string& field) {
  SortKey key;
  key.customer_id = o.customer_id;
  if (field == "balance") key.number = o.balance;
  if (field == "overdue_amount") key.number = o.overdue;
  if (field == "days_overdue") key.number = o.days_overdue;
  if (field == "oldest_open_sale_date") key.number = o.oldest_sale_day - absl::CivilDay(1970, 1, 1);
  if (field == "display_name") {
    const domain::CustomerRow* c = index.Find(o.customer_id);
    key.text = c == nullptr ? "" : c->display_name;
  }
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

struct Inputs {
  std::map<std::string, Owing> owing;
  std::vector<domain::CustomerRow> customers;
  absl::flat_hash_map<std::string, absl::Time> last_payments;
  std::map<std::string, int64_t> versions;
  std::optional<absl::Time> as_of;
};

v1::ReceivablesTotals TotalsOf(const std::vector<Owing>& rows, const std::string& currency) {
  int64_t balance = 0;
  int64_t overdue = 0;
  int64_t aging[4] = {0, 0, 0, 0};
  for (const Owing& o : rows) {
    balance += o.balance;
    overdue += o.overdue;
    for (int i = 0; i < 4; ++i) aging[i] += o.aging[i];
  }
  v1::ReceivablesTotals totals;
  totals.set_customer_count(static_cast<int64_t>(rows.size()));
  *totals.mutable_total_balance() = MoneyOf(balance, currency);
  *totals.mutable_aging() = AgingOf(aging, currency);
  *totals.mutable_total_overdue_amount() = MoneyOf(overdue, currency);
  return totals;
}

v1::ReceivablesReportRow RowOf(const Owing& o, const CustomerIndex& index, const Inputs& in,
                               absl::TimeZone zone, const std::string& currency) {
  v1::ReceivablesReportRow row;
  row.set_customer_id(o.customer_id);
  if (const domain::CustomerRow* c = index.Find(o.customer_id)) {
    row.set_display_name(c->display_name);
    row.set_phone_e164(c->phone_e164);
    row.set_category_id(c->category_id);
  }
  *row.mutable_balance() = MoneyOf(o.balance, currency);
  *row.mutable_aging() = AgingOf(o.aging, currency);
  *row.mutable_overdue_amount() = MoneyOf(o.overdue, currency);
  row.set_days_overdue(o.days_overdue);
  *row.mutable_oldest_open_sale_date() = time::ToDate(o.oldest_sale_day);
  if (auto it = in.last_payments.find(o.customer_id); it != in.last_payments.end()) {
    *row.mutable_last_payment_date() = time::ToDate(domain::DayOf(it->second, zone));
  }
  if (auto it = in.versions.find(o.customer_id); it != in.versions.end()) {
    row.set_ledger_version(it->second);
  }
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

  const absl::TimeZone zone = moment->settings.time_zone;
  Inputs in;
  auto as_of = LedgerAsOf();
  if (!as_of.ok()) return as_of.status();
  in.as_of = *as_of;
  absl::Status read = ReadFacts(tenant_id, [&](const store::TenantFacts& facts) -> absl::Status {
    in.owing = Accumulate(facts.OpenSales(request.store_id()), zone, moment->today);
    in.customers = facts.Customers();
    in.last_payments = facts.LastPayments();
    for (const domain::CardRow& c : facts.Cards()) in.versions[c.customer_id] = c.ledger_version;
    return absl::OkStatus();
  });
  if (!read.ok()) return read;

  const std::string& currency = moment->settings.currency;
  const CustomerIndex index(std::move(in.customers));
  std::vector<Owing> rows;
  for (auto& [id, owing] : in.owing) {
    if (!request.category_id().empty() && index.CategoryOf(id) != request.category_id()) continue;
    if (request.overdue_only() && owing.overdue <= 0) continue;
    rows.push_back(std::move(owing));
  }

  v1::GetReceivablesReportResponse response;
  *response.mutable_totals() = TotalsOf(rows, currency);

  const PageRequest page_request{
      *page_size, request.page_token(), kPageKind, tenant_id,
      absl::StrCat(request.category_id().size(), ":", request.category_id(), "|",
                   request.store_id().size(), ":", request.store_id(), "|",
                   request.overdue_only(), "|", order->field)};
  absl::StatusOr<SortedPage> page = SortAndSlice(
      rows.size(), [&](size_t i) { return KeyOf(rows[i], index, order->field); }, *order,
      page_request);
  if (!page.ok()) return page.status();

  for (size_t i : page->rows) *response.add_rows() = RowOf(rows[i], index, in, zone, currency);
  response.set_next_page_token(page->next_page_token);
  *response.mutable_as_of_date() = time::ToDate(moment->today);
  if (in.as_of.has_value()) *response.mutable_data_as_of_time() = time::ToTimestamp(*in.as_of);
  return response;
}

}  // namespace kelola::report::app
