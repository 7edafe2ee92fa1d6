#include "tests/report-svc/integration/report_oracle.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "google/protobuf/util/message_differencer.h"
#include "libs/time/time.h"

namespace kelola::testing::oracle {
namespace {

namespace rv1 = kelola::report::v1;

// ---- days, money, arithmetic ----

absl::Time StartOfDay(const Facts& facts, absl::CivilDay day) {
  return absl::FromCivil(absl::CivilSecond(day), facts.zone);
}

absl::CivilDay DayOf(const Facts& facts, absl::Time t) { return absl::ToCivilDay(t, facts.zone); }

kelola::type::v1::Money Amount(const Facts& facts, int64_t minor) {
  kelola::type::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code(facts.currency);
  return money;
}

// a / b rounded half up, for a ≥ 0 and b > 0; zero when b is zero (the contract's rule).
int64_t DivideHalfUp(int64_t a, int64_t b) { return b == 0 ? 0 : (2 * a + b) / (2 * b); }

// The customer now, or an empty one for an id customer-svc has not reported.
const Customer& CustomerOf(const Facts& facts, const std::string& id) {
  static const Customer kUnknown;
  auto it = facts.customers.find(id);
  return it == facts.customers.end() ? kUnknown : it->second;
}

// "Sales": voided sales and walk-in sales never count.
bool Counted(const Sale& sale) { return !sale.voided && !sale.customer_id.empty(); }

bool InCategory(const Facts& facts, const std::string& customer_id, const Scope& scope) {
  return scope.category_id.empty() ||
         CustomerOf(facts, customer_id).category_id == scope.category_id;
}

// A counted sale inside the scope (store of the sale, category of its owner now).
bool CountedInScope(const Facts& facts, const Sale& sale, const Scope& scope) {
  return Counted(sale) && (scope.store_id.empty() || sale.store_id == scope.store_id) &&
         InCategory(facts, sale.customer_id, scope);
}

// ---- R2 and the NEW_CUSTOMERS / SALES series ----

// The instant each customer starts to count for total_customers and new_customers: without a
// store filter its create time, existing customers only; with one ("instead", the
// definitions say) its first counted sale at the store, whatever the customer's state now
// (an erased customer's sales still count).
std::map<std::string, absl::Time> CustomerStarts(const Facts& facts, const Scope& scope) {
  std::map<std::string, absl::Time> starts;
  if (scope.store_id.empty()) {
    for (const auto& [id, customer] : facts.customers) {
      if (customer.exists && InCategory(facts, id, scope)) starts[id] = customer.create_time;
    }
    return starts;
  }
  for (const Sale& sale : facts.sales) {
    if (!CountedInScope(facts, sale, scope)) continue;
    auto [it, inserted] = starts.emplace(sale.customer_id, sale.sale_time);
    if (!inserted) it->second = std::min(it->second, sale.sale_time);
  }
  return starts;
}

int64_t CountStartsIn(const std::map<std::string, absl::Time>& starts, absl::Time from,
                      absl::Time to) {
  int64_t n = 0;
  for (const auto& [id, start] : starts) n += (start >= from && start < to) ? 1 : 0;
  return n;
}

struct Spend {
  int64_t total = 0;
  int64_t count = 0;
  absl::Time last = absl::InfinitePast();
};

// Counted sales in [from, to) within the scope, per customer.
std::map<std::string, Spend> SpendIn(const Facts& facts, const Scope& scope, absl::Time from,
                                     absl::Time to) {
  std::map<std::string, Spend> spend;
  for (const Sale& sale : facts.sales) {
    if (!CountedInScope(facts, sale, scope) || sale.sale_time < from || sale.sale_time >= to)
      continue;
    Spend& s = spend[sale.customer_id];
    s.total += sale.net_total;
    s.count += 1;
    s.last = std::max(s.last, sale.sale_time);
  }
  return spend;
}

std::vector<rv1::TopCustomer> TopCustomers(const Facts& facts,
                                           const std::map<std::string, Spend>& spend, int limit) {
  std::vector<std::pair<std::string, Spend>> ranked(spend.begin(), spend.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.total != b.second.total) return a.second.total > b.second.total;
    return a.first < b.first;
  });
  std::vector<rv1::TopCustomer> top;
  for (size_t i = 0; i < ranked.size() && static_cast<int>(i) < limit; ++i) {
    const auto& [id, s] = ranked[i];
    rv1::TopCustomer row;
    row.set_rank(static_cast<int32_t>(i + 1));
    row.set_customer_id(id);
    row.set_display_name(CustomerOf(facts, id).display_name);
    row.set_category_id(CustomerOf(facts, id).category_id);
    *row.mutable_total_spent() = Amount(facts, s.total);
    row.set_transaction_count(s.count);
    *row.mutable_last_purchase_date() = time::ToDate(DayOf(facts, s.last));
    top.push_back(std::move(row));
  }
  return top;
}

}  // namespace

rv1::CustomerReport ExpectedCustomerReport(const Facts& facts, const Scope& scope,
                                           absl::CivilDay start, absl::CivilDay end,
                                           int top_customers_limit) {
  const absl::Time from = StartOfDay(facts, start);
  const absl::Time to = StartOfDay(facts, end + 1);
  rv1::CustomerReport report;
  *report.mutable_start_date() = time::ToDate(start);
  *report.mutable_end_date() = time::ToDate(end);
  report.set_time_zone(facts.time_zone_name);
  const auto starts = CustomerStarts(facts, scope);
  report.set_total_customers(CountStartsIn(starts, absl::InfinitePast(), to));
  report.set_new_customers(CountStartsIn(starts, from, to));
  const auto spend = SpendIn(facts, scope, from, to);
  int64_t total = 0;
  int64_t count = 0;
  for (const auto& [id, s] : spend) {
    total += s.total;
    count += s.count;
  }
  const auto active = static_cast<int64_t>(spend.size());
  report.set_active_customers(active);
  *report.mutable_total_sales() = Amount(facts, total);
  report.set_transaction_count(count);
  *report.mutable_average_customer_value() = Amount(facts, DivideHalfUp(total, active));
  *report.mutable_average_order_value() = Amount(facts, DivideHalfUp(total, count));
  report.set_purchase_frequency_milli(DivideHalfUp(count * 1000, active));
  const int limit = top_customers_limit == 0 ? 10 : top_customers_limit;
  for (auto& row : TopCustomers(facts, spend, limit)) *report.add_top_customers() = std::move(row);
  return report;
}

// ---- R3 ----

namespace {

// The open position of one customer on day `today`, over the sales accepted by `take`.
struct Position {
  int64_t balance = 0;
  int64_t aging[4] = {0, 0, 0, 0};
  int64_t overdue = 0;
  int32_t days_overdue = 0;
  absl::CivilDay oldest_open_day = absl::CivilDay::max();
};

void AddOpenSale(const Facts& facts, const Sale& sale, absl::CivilDay today, Position& p) {
  const absl::CivilDay day = DayOf(facts, sale.sale_time);
  const int64_t age = today - day;
  const int bucket = age <= 30 ? 0 : age <= 60 ? 1 : age <= 90 ? 2 : 3;
  p.balance += sale.outstanding;
  p.aging[bucket] += sale.outstanding;
  p.oldest_open_day = std::min(p.oldest_open_day, day);
  // Overdue the day after the due date (L12).
  if (sale.due_date.has_value() && *sale.due_date < today) {
    p.overdue += sale.outstanding;
    p.days_overdue = std::max(p.days_overdue, static_cast<int32_t>(today - *sale.due_date));
  }
}

std::map<std::string, Position> OpenPositions(const Facts& facts, const Scope& scope,
                                              absl::CivilDay today) {
  std::map<std::string, Position> positions;
  for (const Sale& sale : facts.sales) {
    if (!CountedInScope(facts, sale, scope) || sale.outstanding <= 0) continue;
    AddOpenSale(facts, sale, today, positions[sale.customer_id]);
  }
  return positions;
}

rv1::AgingBuckets Aging(const Facts& facts, const int64_t (&aging)[4]) {
  rv1::AgingBuckets buckets;
  *buckets.mutable_age_0_to_30_days() = Amount(facts, aging[0]);
  *buckets.mutable_age_31_to_60_days() = Amount(facts, aging[1]);
  *buckets.mutable_age_61_to_90_days() = Amount(facts, aging[2]);
  *buckets.mutable_age_over_90_days() = Amount(facts, aging[3]);
  return buckets;
}

// Newest non-voided payment of each customer (any store, any origin).
std::map<std::string, absl::Time> LastPayments(const Facts& facts) {
  std::map<std::string, absl::Time> last;
  for (const Payment& payment : facts.payments) {
    if (payment.voided || payment.customer_id.empty()) continue;
    auto [it, inserted] = last.emplace(payment.customer_id, payment.received_time);
    if (!inserted) it->second = std::max(it->second, payment.received_time);
  }
  return last;
}

using RowLess =
    std::function<bool(const rv1::ReceivablesReportRow&, const rv1::ReceivablesReportRow&)>;

// The sort key of `order_by` (ties by customer_id ascending, applied by the caller).
RowLess ReceivablesOrder(const std::string& order_by) {
  using Row = rv1::ReceivablesReportRow;
  if (order_by == "oldest_open_sale_date asc") {
    return [](const Row& a, const Row& b) {
      return time::ToCivilDay(a.oldest_open_sale_date()) <
             time::ToCivilDay(b.oldest_open_sale_date());
    };
  }
  if (order_by == "days_overdue desc") {
    return [](const Row& a, const Row& b) { return a.days_overdue() > b.days_overdue(); };
  }
  if (order_by == "overdue_amount desc") {
    return [](const Row& a, const Row& b) {
      return a.overdue_amount().amount_minor() > b.overdue_amount().amount_minor();
    };
  }
  if (order_by == "display_name asc") {
    return [](const Row& a, const Row& b) { return a.display_name() < b.display_name(); };
  }
  return [](const Row& a, const Row& b) {  // "balance desc", the default
    return a.balance().amount_minor() > b.balance().amount_minor();
  };
}

}  // namespace

Receivables ExpectedReceivables(const Facts& facts, const Scope& scope, bool overdue_only,
                                const std::string& order_by, absl::CivilDay today) {
  const auto last_payments = LastPayments(facts);
  Receivables result;
  int64_t totals_aging[4] = {0, 0, 0, 0};
  int64_t total_balance = 0;
  int64_t total_overdue = 0;
  for (const auto& [id, p] : OpenPositions(facts, scope, today)) {
    if (overdue_only && p.overdue == 0) continue;
    const Customer& customer = CustomerOf(facts, id);
    rv1::ReceivablesReportRow row;
    row.set_customer_id(id);
    row.set_display_name(customer.display_name);
    row.set_phone_e164(customer.phone_e164);
    row.set_category_id(customer.category_id);
    *row.mutable_balance() = Amount(facts, p.balance);
    *row.mutable_aging() = Aging(facts, p.aging);
    *row.mutable_overdue_amount() = Amount(facts, p.overdue);
    row.set_days_overdue(p.days_overdue);
    *row.mutable_oldest_open_sale_date() = time::ToDate(p.oldest_open_day);
    auto paid = last_payments.find(id);
    if (paid != last_payments.end()) {
      *row.mutable_last_payment_date() = time::ToDate(DayOf(facts, paid->second));
    }
    row.set_ledger_version(customer.ledger_version);
    for (int i = 0; i < 4; ++i) totals_aging[i] += p.aging[i];
    total_balance += p.balance;
    total_overdue += p.overdue;
    result.rows.push_back(std::move(row));
  }
  const RowLess less = ReceivablesOrder(order_by);
  std::stable_sort(result.rows.begin(), result.rows.end(),  // rows come in customer_id order
                   [&](const auto& a, const auto& b) { return less(a, b); });
  result.totals.set_customer_count(static_cast<int64_t>(result.rows.size()));
  *result.totals.mutable_total_balance() = Amount(facts, total_balance);
  *result.totals.mutable_aging() = Aging(facts, totals_aging);
  *result.totals.mutable_total_overdue_amount() = Amount(facts, total_overdue);
  return result;
}

// ---- R6 ----

namespace {

absl::CivilDay BucketStart(absl::CivilDay day, rv1::Granularity granularity) {
  switch (granularity) {
    case rv1::GRANULARITY_WEEK:  // absl's weekdays count from Monday = 0
      return day - static_cast<int>(absl::GetWeekday(day));
    case rv1::GRANULARITY_MONTH:
      return absl::CivilDay(absl::CivilMonth(day));
    default:
      return day;
  }
}

absl::CivilDay BucketEnd(absl::CivilDay start, rv1::Granularity granularity) {
  switch (granularity) {
    case rv1::GRANULARITY_WEEK:
      return start + 6;
    case rv1::GRANULARITY_MONTH:
      return absl::CivilDay(absl::CivilMonth(start) + 1) - 1;
    default:
      return start;
  }
}

// What the customers in scope owed at instant `at`: every outstanding change dated up to it.
int64_t ReceivablesAt(const Facts& facts, const Scope& scope, absl::Time at) {
  std::map<std::string, const Sale*> by_id;
  for (const Sale& sale : facts.sales) by_id[sale.sale_id] = &sale;
  int64_t owed = 0;
  for (const OutstandingChange& change : facts.changes) {
    auto it = by_id.find(change.sale_id);
    if (it == by_id.end() || change.effective_time >= at) continue;
    const Sale& sale = *it->second;
    if (sale.customer_id.empty()) continue;
    if (!scope.store_id.empty() && sale.store_id != scope.store_id) continue;
    if (!InCategory(facts, sale.customer_id, scope)) continue;
    owed += change.delta;
  }
  return owed;
}

int64_t SalesIn(const Facts& facts, const Scope& scope, absl::Time from, absl::Time to) {
  int64_t total = 0;
  for (const auto& [id, s] : SpendIn(facts, scope, from, to)) total += s.total;
  return total;
}

}  // namespace

std::vector<rv1::SeriesPoint> ExpectedSeries(const Facts& facts, const Scope& scope,
                                             rv1::SeriesMetric metric, rv1::Granularity granularity,
                                             absl::CivilDay start, absl::CivilDay end,
                                             absl::CivilDay today) {
  const auto starts = CustomerStarts(facts, scope);
  std::vector<rv1::SeriesPoint> points;
  for (absl::CivilDay first = BucketStart(start, granularity); first <= end;
       first = BucketEnd(first, granularity) + 1) {
    const absl::CivilDay last = BucketEnd(first, granularity);
    const absl::Time from = StartOfDay(facts, first);
    const absl::Time to = StartOfDay(facts, last + 1);
    rv1::SeriesPoint point;
    *point.mutable_start_date() = time::ToDate(first);
    *point.mutable_end_date() = time::ToDate(last);
    if (metric == rv1::SERIES_METRIC_NEW_CUSTOMERS) {
      point.set_count(CountStartsIn(starts, from, to));
    } else if (metric == rv1::SERIES_METRIC_SALES) {
      *point.mutable_amount() = Amount(facts, SalesIn(facts, scope, from, to));
    } else {
      // The bucket holding today, and later ones, show what is owed now.
      const absl::Time at = last >= today ? absl::InfiniteFuture() : to;
      *point.mutable_amount() = Amount(facts, ReceivablesAt(facts, scope, at));
    }
    points.push_back(std::move(point));
  }
  return points;
}

// ---- R5 ----

namespace {

// One customer's purchase figures on day `today`.
struct Rfm {
  bool bought_ever = false;
  absl::CivilDay first_day;
  absl::CivilDay last_day;
  int64_t lifetime_total = 0;
  bool bought_in_window = false;
  int64_t window_days = 0;  // days from the last sale in the window to today
  int64_t frequency = 0;
  int64_t monetary = 0;
  int r = 0, f = 0, m = 0;
};

std::map<std::string, Rfm> PurchaseFigures(const Facts& facts, absl::CivilDay today) {
  const absl::Time window_start = StartOfDay(facts, today - 364);
  std::map<std::string, Rfm> figures;
  for (const Sale& sale : facts.sales) {
    if (!Counted(sale)) continue;
    Rfm& x = figures[sale.customer_id];
    const absl::CivilDay day = DayOf(facts, sale.sale_time);
    x.first_day = x.bought_ever ? std::min(x.first_day, day) : day;
    x.last_day = x.bought_ever ? std::max(x.last_day, day) : day;
    x.bought_ever = true;
    x.lifetime_total += sale.net_total;
    if (sale.sale_time < window_start) continue;
    x.window_days =
        x.bought_in_window ? std::min<int64_t>(x.window_days, today - day) : today - day;
    x.bought_in_window = true;
    x.frequency += 1;
    x.monetary += sale.net_total;
  }
  return figures;
}

// ceil(5 × rank / n), rank = how many of the n values are "no better" than `value`.
int Quintile(int64_t rank, int64_t n) { return static_cast<int>((5 * rank + n - 1) / n); }

void ScoreQuintiles(std::map<std::string, Rfm>& figures) {
  std::vector<const Rfm*> scored;
  for (const auto& [id, x] : figures) {
    if (x.bought_in_window) scored.push_back(&x);
  }
  const auto n = static_cast<int64_t>(scored.size());
  for (auto& [id, x] : figures) {
    if (!x.bought_in_window) continue;
    int64_t r_rank = 0, f_rank = 0, m_rank = 0;
    for (const Rfm* other : scored) {
      r_rank += other->window_days >= x.window_days ? 1 : 0;  // fewer days is better
      f_rank += other->frequency <= x.frequency ? 1 : 0;
      m_rank += other->monetary <= x.monetary ? 1 : 0;
    }
    x.r = Quintile(r_rank, n);
    x.f = Quintile(f_rank, n);
    x.m = Quintile(m_rank, n);
  }
}

rv1::CustomerSegment SegmentOf(const Rfm& x, absl::CivilDay today) {
  if (!x.bought_ever) return rv1::CUSTOMER_SEGMENT_NO_PURCHASES;
  if (today - x.first_day < 30) return rv1::CUSTOMER_SEGMENT_NEW;
  if (!x.bought_in_window || x.window_days >= 180) return rv1::CUSTOMER_SEGMENT_INACTIVE;
  if (x.r >= 4 && x.f >= 4 && x.m >= 4) return rv1::CUSTOMER_SEGMENT_BEST;
  if (x.r <= 2 && (x.f >= 3 || x.m >= 3)) return rv1::CUSTOMER_SEGMENT_AT_RISK;
  if (x.f >= 4) return rv1::CUSTOMER_SEGMENT_LOYAL;
  return rv1::CUSTOMER_SEGMENT_REGULAR;
}

rv1::CustomerInsight InsightOf(const Facts& facts, const Customer& customer, const Rfm& x,
                               const Position& p, absl::CivilDay today) {
  rv1::CustomerInsight insight;
  insight.set_customer_id(customer.customer_id);
  insight.set_display_name(customer.display_name);
  insight.set_phone_e164(customer.phone_e164);
  insight.set_category_id(customer.category_id);
  insight.set_marketing_consent(customer.marketing_consent);
  insight.set_segment(SegmentOf(x, today));
  insight.set_recency_score(x.r);
  insight.set_frequency_score(x.f);
  insight.set_monetary_score(x.m);
  if (x.bought_ever) insight.set_recency_days(static_cast<int32_t>(today - x.last_day));
  insight.set_frequency(x.frequency);
  *insight.mutable_monetary() = Amount(facts, x.monetary);
  *insight.mutable_total_spent() = Amount(facts, x.lifetime_total);
  if (x.bought_ever) {
    *insight.mutable_first_purchase_date() = time::ToDate(x.first_day);
    *insight.mutable_last_purchase_date() = time::ToDate(x.last_day);
  }
  *insight.mutable_balance() = Amount(facts, p.balance);
  *insight.mutable_overdue_amount() = Amount(facts, p.overdue);
  insight.set_days_overdue(p.days_overdue);
  return insight;
}

bool InList(const rv1::CustomerInsight& insight, rv1::InsightKind kind) {
  switch (kind) {
    case rv1::INSIGHT_KIND_BEST:
      return insight.segment() == rv1::CUSTOMER_SEGMENT_BEST;
    case rv1::INSIGHT_KIND_LOYAL:
      return insight.segment() == rv1::CUSTOMER_SEGMENT_LOYAL;
    case rv1::INSIGHT_KIND_AT_RISK:
      return insight.segment() == rv1::CUSTOMER_SEGMENT_AT_RISK;
    case rv1::INSIGHT_KIND_INACTIVE:
      return insight.segment() == rv1::CUSTOMER_SEGMENT_INACTIVE;
    case rv1::INSIGHT_KIND_NEW:
      return insight.segment() == rv1::CUSTOMER_SEGMENT_NEW;
    case rv1::INSIGHT_KIND_PAYMENT_REMINDER:
      return insight.overdue_amount().amount_minor() > 0;
    default:
      return false;
  }
}

// The kind's default order key, larger first (first_purchase_date desc for NEW).
int64_t DefaultKey(const rv1::CustomerInsight& insight, rv1::InsightKind kind) {
  switch (kind) {
    case rv1::INSIGHT_KIND_LOYAL:
      return insight.frequency();
    case rv1::INSIGHT_KIND_NEW:
      return time::ToCivilDay(insight.first_purchase_date()) - absl::CivilDay(1970, 1, 1);
    case rv1::INSIGHT_KIND_PAYMENT_REMINDER:
      return insight.days_overdue();
    default:
      return insight.monetary().amount_minor();
  }
}

}  // namespace

std::vector<rv1::CustomerInsight> ExpectedInsights(const Facts& facts, rv1::InsightKind kind,
                                                   absl::CivilDay today) {
  auto figures = PurchaseFigures(facts, today);
  ScoreQuintiles(figures);
  const auto positions = OpenPositions(facts, Scope{}, today);
  std::vector<rv1::CustomerInsight> list;
  for (const auto& [id, customer] : facts.customers) {
    if (!customer.exists) continue;  // lists show existing customers only
    auto x = figures.find(id);
    auto p = positions.find(id);
    rv1::CustomerInsight insight =
        InsightOf(facts, customer, x == figures.end() ? Rfm{} : x->second,
                  p == positions.end() ? Position{} : p->second, today);
    if (InList(insight, kind)) list.push_back(std::move(insight));
  }
  std::stable_sort(list.begin(), list.end(), [&](const auto& a, const auto& b) {
    return DefaultKey(a, kind) > DefaultKey(b, kind);
  });
  return list;
}

std::string Diff(const google::protobuf::Message& expected, const google::protobuf::Message& actual,
                 const std::vector<std::string>& ignored_fields) {
  google::protobuf::util::MessageDifferencer differencer;
  for (const std::string& name : ignored_fields) {
    const auto* field = expected.GetDescriptor()->FindFieldByName(name);
    if (field != nullptr) differencer.IgnoreField(field);
  }
  std::string report;
  differencer.ReportDifferencesToString(&report);
  return differencer.Compare(expected, actual) ? std::string() : report;
}

}  // namespace kelola::testing::oracle
