// ListCustomerInsights (R5): RFM segment lists and the payment-reminder list.

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/filter/filter.h"
#include "libs/time/time.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/app/report_support.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/domain/rfm.h"
#include "report-svc/store/fact_index.h"

namespace kelola::report::app {
namespace {

constexpr char kPageKind[] = "report.insights";

struct Filter {
  std::optional<std::string> category_id;
  std::string store_id;
  std::optional<bool> marketing_consent;
  std::optional<bool> has_phone;
  std::optional<int64_t> min_days_overdue;
};

absl::StatusOr<bool> BoolOf(const filter::FilterTerm& t) {
  if (t.quoted || (t.value != "true" && t.value != "false")) {
    return filter::FilterError(t, "expects true or false");
  }
  return t.value == "true";
}

absl::StatusOr<Filter> ParseInsightFilter(const std::string& text, v1::InsightKind kind) {
  auto terms = filter::ParseFilter(text);
  if (!terms.ok()) return terms.status();
  if (absl::Status s = filter::CheckTermsOnce(*terms, {}); !s.ok()) return s;
  Filter f;
  for (const filter::FilterTerm& t : *terms) {
    const bool equals = t.op == "=";
    if (t.field == "category_id" || t.field == "store_id") {
      if (!equals || !t.quoted) return filter::FilterError(t, "expects = \"<id>\"");
      if (t.value.size() > kMaxIdLength) return filter::FilterError(t, "id too long");
      if (t.field == "category_id") f.category_id = t.value;
      if (t.field == "store_id") f.store_id = t.value;
    } else if (t.field == "marketing_consent" || t.field == "has_phone") {
      if (!equals) return filter::FilterError(t, "expects = true|false");
      absl::StatusOr<bool> v = BoolOf(t);
      if (!v.ok()) return v.status();
      (t.field == "has_phone" ? f.has_phone : f.marketing_consent) = *v;
    } else if (t.field == "days_overdue") {
      int64_t days = 0;
      if (kind != v1::INSIGHT_KIND_PAYMENT_REMINDER) {
        return filter::FilterError(t, "only for PAYMENT_REMINDER");
      }
      if (t.op != ">=" || t.quoted || !absl::SimpleAtoi(t.value, &days)) {
        return filter::FilterError(t, "expects >= <integer>");
      }
      f.min_days_overdue = days;
    } else {
      return filter::FilterError(t, "unknown field");
    }
  }
  return f;
}

bool AscendingOnly(const std::string& field) { return field != "display_name"; }

const std::vector<std::string>& OrderFields() {
  static const auto* fields = new std::vector<std::string>{
      "monetary",       "frequency",    "recency_days",        "total_spent", "balance",
      "overdue_amount", "days_overdue", "first_purchase_date", "display_name"};
  return *fields;
}

SortOrder DefaultOrder(v1::InsightKind kind) {
  switch (kind) {
    case v1::INSIGHT_KIND_LOYAL:
      return {"frequency", true};
    case v1::INSIGHT_KIND_NEW:
      return {"first_purchase_date", true};
    case v1::INSIGHT_KIND_PAYMENT_REMINDER:
      return {"days_overdue", true};
    default:
      return {"monetary", true};
  }
}

v1::CustomerSegment SegmentOfKind(v1::InsightKind kind) {
  switch (kind) {
    case v1::INSIGHT_KIND_BEST:
      return v1::CUSTOMER_SEGMENT_BEST;
    case v1::INSIGHT_KIND_LOYAL:
      return v1::CUSTOMER_SEGMENT_LOYAL;
    case v1::INSIGHT_KIND_AT_RISK:
      return v1::CUSTOMER_SEGMENT_AT_RISK;
    case v1::INSIGHT_KIND_INACTIVE:
      return v1::CUSTOMER_SEGMENT_INACTIVE;
    case v1::INSIGHT_KIND_NEW:
      return v1::CUSTOMER_SEGMENT_NEW;
    default:
      return v1::CUSTOMER_SEGMENT_UNSPECIFIED;
  }
}

struct Inputs {
  std::vector<customer_stream::CustomerRow> customers;
  std::vector<domain::CardRow> cards;
  std::vector<store::CustomerSales> window;           // all stores
  std::vector<store::CustomerSales> window_at_store;  // store filter only
  // What is overdue per customer (on sales of the store filter, for reminders).
  std::unordered_map<std::string, domain::Overdue> overdue;
};

// One candidate with everything a list shows and sorts by.
struct Candidate {
  v1::CustomerInsight insight;
  int64_t first_purchase_day = 0;  // days since 1970 (sorting), or min
};

int64_t DayNumber(absl::CivilDay day) { return day - absl::CivilDay(1970, 1, 1); }

SortKey KeyOf(const Candidate& c, const std::string& field) {
  const v1::CustomerInsight& i = c.insight;
  SortKey key;
  key.customer_id = i.customer_id();
  if (field == "monetary") key.number = i.monetary().amount_minor();
  if (field == "frequency") key.number = i.frequency();
  if (field == "recency_days") key.number = i.has_recency_days() ? i.recency_days() : INT32_MAX;
  if (field == "total_spent") key.number = i.total_spent().amount_minor();
  if (field == "balance") key.number = i.balance().amount_minor();
  if (field == "overdue_amount") key.number = i.overdue_amount().amount_minor();
  if (field == "days_overdue") key.number = i.days_overdue();
  if (field == "first_purchase_date") key.number = c.first_purchase_day;
  if (field == "display_name") key.text = i.display_name();
  return key;
}

// The tenant's window values per customer and their distribution.
class Scoring {
 public:
  Scoring(const std::vector<store::CustomerSales>& window, absl::TimeZone zone,
          absl::CivilDay today) {
    std::vector<domain::RfmValues> all;
    for (const store::CustomerSales& s : window) {
      const domain::RfmValues v{s.count, s.total,
                                static_cast<int32_t>(today - domain::DayOf(s.last, zone))};
      values_[s.customer_id] = v;
      all.push_back(v);
    }
    scale_ = std::make_unique<domain::RfmScale>(all);
  }
  domain::RfmValues ValuesOf(const std::string& id) const {
    auto it = values_.find(id);
    return it == values_.end() ? domain::RfmValues{} : it->second;
  }
  const domain::RfmScale& scale() const { return *scale_; }

 private:
  std::unordered_map<std::string, domain::RfmValues> values_;
  std::unique_ptr<domain::RfmScale> scale_;
};

// Everyone the lists may show: existing customers, and customers the ledger knows that the
// directory has not reported yet (never merged-away ones).
std::vector<std::string> Population(const CustomerIndex& index,
                                    const std::vector<domain::CardRow>& cards) {
  std::vector<std::string> ids;
  for (const customer_stream::CustomerRow& c : index.rows()) {
    if (customer_stream::Exists(c)) ids.push_back(c.customer_id);
  }
  for (const domain::CardRow& c : cards) {
    if (index.Find(c.customer_id) == nullptr && c.merged_into_customer_id.empty()) {
      ids.push_back(c.customer_id);
    }
  }
  return ids;
}

Candidate CandidateOf(const std::string& id, const customer_stream::CustomerRow* customer,
                      const domain::CardRow* card, const Scoring& scoring,
                      const domain::Overdue& overdue, absl::TimeZone zone, absl::CivilDay today,
                      const std::string& currency) {
  const domain::RfmValues v = scoring.ValuesOf(id);
  const domain::RfmScores scores = scoring.scale().ScoresOf(v);
  domain::Lifetime lifetime;
  if (card != nullptr && card->transaction_count > 0 && card->first_purchase.has_value() &&
      card->last_purchase.has_value()) {
    lifetime.first_purchase = domain::DayOf(*card->first_purchase, zone);
    lifetime.last_purchase = domain::DayOf(*card->last_purchase, zone);
  }
  Candidate c;
  v1::CustomerInsight& i = c.insight;
  i.set_customer_id(id);
  if (customer != nullptr) {
    i.set_display_name(customer->display_name);
    i.set_category_id(customer->category_id);
    i.set_marketing_consent(customer->marketing_consent);
    i.set_phone_e164(customer->phone_e164);
  }
  i.set_segment(domain::SegmentOf(lifetime, scores, today));
  i.set_recency_score(scores.recency);
  i.set_frequency_score(scores.frequency);
  i.set_monetary_score(scores.monetary);
  i.set_frequency(v.frequency);
  *i.mutable_monetary() = MoneyOf(v.monetary, currency);
  *i.mutable_total_spent() = MoneyOf(card ? card->total_spent : 0, currency);
  *i.mutable_balance() = MoneyOf(card ? card->balance : 0, currency);
  *i.mutable_overdue_amount() = MoneyOf(overdue.amount, currency);
  i.set_days_overdue(overdue.days);
  c.first_purchase_day = INT64_MIN;
  if (lifetime.first_purchase) {
    *i.mutable_first_purchase_date() = time::ToDate(*lifetime.first_purchase);
    c.first_purchase_day = DayNumber(*lifetime.first_purchase);
  }
  if (lifetime.last_purchase) {
    *i.mutable_last_purchase_date() = time::ToDate(*lifetime.last_purchase);
    i.set_recency_days(static_cast<int32_t>(today - *lifetime.last_purchase));
  }
  return c;
}

// Whether a candidate belongs in the list of `kind` and passes the filter.
bool Matches(const Candidate& c, v1::InsightKind kind, const Filter& filter,
             const customer_stream::CustomerRow* customer,
             const std::set<std::string>& bought_at_store) {
  const v1::CustomerInsight& i = c.insight;
  const bool reminder = kind == v1::INSIGHT_KIND_PAYMENT_REMINDER;
  if (reminder ? i.overdue_amount().amount_minor() <= 0 : i.segment() != SegmentOfKind(kind)) {
    return false;
  }
  if (filter.category_id && i.category_id() != *filter.category_id) return false;
  if (!filter.store_id.empty() && !reminder && !bought_at_store.contains(i.customer_id())) {
    return false;
  }
  if (filter.marketing_consent &&
      (customer && customer->marketing_consent) != *filter.marketing_consent) {
    return false;
  }
  if (filter.has_phone && i.phone_e164().empty() == *filter.has_phone) return false;
  return !filter.min_days_overdue || i.days_overdue() >= *filter.min_days_overdue;
}

}  // namespace

absl::StatusOr<v1::ListCustomerInsightsResponse> ReportQueries::ListCustomerInsights(
    const std::string& tenant_id, const v1::ListCustomerInsightsRequest& request,
    absl::Time deadline) {
  if (request.kind() == v1::INSIGHT_KIND_UNSPECIFIED || !v1::InsightKind_IsValid(request.kind())) {
    errors::FieldErrors fields;
    fields.Add("kind", "is required");
    return fields.ToStatus();
  }
  absl::StatusOr<int> page_size = PageSize(request.page_size());
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<Filter> filter = ParseInsightFilter(request.filter(), request.kind());
  if (!filter.ok()) return filter.status();
  absl::StatusOr<SortOrder> order = ParseOrderBy(
      request.order_by(), OrderFields(), DefaultOrder(request.kind()), AscendingOnly, false);
  if (!order.ok()) return order.status();
  absl::StatusOr<Moment> moment = MomentOf(tenant_id, deadline);
  if (!moment.ok()) return moment.status();
  const absl::TimeZone zone = moment->settings.time_zone;
  const absl::CivilDay today = moment->today;
  const domain::Interval window =
      domain::DaysInterval(today - (domain::kRfmWindowDays - 1), today, zone);
  const bool reminder = request.kind() == v1::INSIGHT_KIND_PAYMENT_REMINDER;

  Inputs in;
  absl::Status read = ReadFacts(tenant_id, [&](const store::TenantFacts& facts) -> absl::Status {
    in.customers = facts.Customers();
    in.cards = facts.Cards();
    in.window = facts.SalesByCustomer(window.from, window.to, "");
    if (!filter->store_id.empty() && !reminder) {
      in.window_at_store = facts.SalesByCustomer(window.from, window.to, filter->store_id);
    }
    for (const store::Owing& o :
         facts.OwingCustomers(reminder ? filter->store_id : "", zone, today)) {
      in.overdue[*o.customer_id] = {o.overdue, o.days_overdue};
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;

  const CustomerIndex index(std::move(in.customers));
  const Scoring scoring(in.window, zone, today);
  std::set<std::string> bought_at_store;
  for (const store::CustomerSales& s : in.window_at_store) bought_at_store.insert(s.customer_id);
  std::map<std::string, const domain::CardRow*> cards;
  for (const domain::CardRow& c : in.cards) cards[c.customer_id] = &c;

  std::vector<Candidate> candidates;
  for (const std::string& id : Population(index, in.cards)) {
    const customer_stream::CustomerRow* customer = index.Find(id);
    auto card = cards.find(id);
    Candidate c = CandidateOf(id, customer, card == cards.end() ? nullptr : card->second, scoring,
                              in.overdue[id], zone, today, moment->settings.currency);
    if (!Matches(c, request.kind(), *filter, customer, bought_at_store)) continue;
    candidates.push_back(std::move(c));
  }

  const PageRequest page_request{
      *page_size, request.page_token(), kPageKind, tenant_id,
      absl::StrCat(request.kind(), "|", request.filter().size(), ":", request.filter(), "|",
                   order->field, "|", order->descending)};
  absl::StatusOr<SortedPage> page = SortAndSlice(
      candidates.size(), [&](size_t i) { return KeyOf(candidates[i], order->field); }, *order,
      page_request);
  if (!page.ok()) return page.status();
  v1::ListCustomerInsightsResponse response;
  for (size_t i : page->rows) *response.add_insights() = std::move(candidates[i].insight);
  response.set_next_page_token(page->next_page_token);
  response.set_total_size(static_cast<int64_t>(candidates.size()));
  *response.mutable_as_of_date() = time::ToDate(today);
  return response;
}

}  // namespace kelola::report::app
