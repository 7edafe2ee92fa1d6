#include "ledger-svc/api/list_filters.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/domain/filter_terms.h"
#include "ledger-svc/domain/listing.h"
#include "libs/time/time.h"

namespace kelola::ledger::api {
namespace {

// The first instant of `day` in `tz`.
int64_t DayStart(absl::CivilDay day, absl::TimeZone tz) {
  return absl::ToUnixMicros(absl::FromCivil(day, tz));
}

// A date term ("YYYY-MM-DD", a day of the tenant's calendar) as bounds on the instants of
// that day: `=` is both of its bounds, `>` starts at the next day, `<=` ends before it.
absl::StatusOr<std::vector<TimeBound>> DateBounds(const FilterTerm& t, absl::TimeZone tz) {
  absl::CivilDay day;
  if (t.value.empty() || !absl::ParseCivilTime(t.value, &day) || day.year() < 1 ||
      day.year() > 9999) {
    return FilterError(t, "expects \"YYYY-MM-DD\"");
  }
  const int64_t start = DayStart(day, tz);
  const int64_t next = DayStart(day + 1, tz);
  using Bounds = std::vector<TimeBound>;
  if (t.op == "=") return Bounds{{TimeBound::kAtOrAfter, start}, {TimeBound::kBefore, next}};
  if (t.op == ">=") return Bounds{{TimeBound::kAtOrAfter, start}};
  if (t.op == "<") return Bounds{{TimeBound::kBefore, start}};
  if (t.op == ">") return Bounds{{TimeBound::kAtOrAfter, next}};
  if (t.op == "<=") return Bounds{{TimeBound::kBefore, next}};
  return FilterError(t, "unsupported operator");
}

// A time term (RFC 3339) as one bound.
absl::StatusOr<TimeBound> TimeTermBound(const FilterTerm& t) {
  absl::Time time;
  std::string err;
  // absl also accepts "infinite-future" and years past 9999; a filter time is a timestamp
  // in protobuf's range (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z).
  if (!absl::ParseTime(absl::RFC3339_full, t.value, &time, &err) ||
      time < absl::FromUnixSeconds(time::kMinTimestampSeconds) ||
      time >= absl::FromUnixSeconds(time::kMaxTimestampSeconds + 1)) {
    return FilterError(t, "expects an RFC 3339 time from 0001-01-01 to 9999-12-31");
  }
  TimeBound bound{TimeBound::kAtOrAfter, absl::ToUnixMicros(time)};
  if (t.op == ">") {
    bound.op = TimeBound::kAfter;
  } else if (t.op == "<") {
    bound.op = TimeBound::kBefore;
  } else if (t.op == "<=") {
    bound.op = TimeBound::kAtOrBefore;
  } else if (t.op != ">=") {
    return FilterError(t, "unsupported operator");
  }
  return bound;
}

// Appends the bounds of a date (`is_date`) or time term to `conditions`.
template <typename Condition>
absl::Status AddTimeBounds(const FilterTerm& t, bool is_date, absl::TimeZone tz,
                           std::vector<Condition>& conditions) {
  if (!t.quoted) return FilterError(t, "expects a quoted value");
  if (!is_date) {
    auto bound = TimeTermBound(t);
    if (!bound.ok()) return bound.status();
    conditions.push_back(*bound);
    return absl::OkStatus();
  }
  auto bounds = DateBounds(t, tz);
  if (!bounds.ok()) return bounds.status();
  for (const TimeBound& b : *bounds) conditions.push_back(b);
  return absl::OkStatus();
}

absl::StatusOr<bool> BoolValue(const FilterTerm& t) {
  if (t.op != "=" || t.quoted || (t.value != "true" && t.value != "false")) {
    return FilterError(t, "expects = true or = false");
  }
  return t.value == "true";
}

// Whether an = or != term asks for equality.
absl::StatusOr<bool> Equality(const FilterTerm& t) {
  if (t.op != "=" && t.op != "!=") return FilterError(t, "expects = or !=");
  return t.op == "=";
}

// The terms of `filter`, each field at most once (`range_fields` twice, for both bounds).
absl::StatusOr<std::vector<FilterTerm>> Terms(absl::string_view filter,
                                              const std::set<std::string>& range_fields) {
  auto terms = ParseFilter(filter);
  if (!terms.ok()) return terms.status();
  if (absl::Status s = CheckTermsOnce(*terms, range_fields); !s.ok()) return s;
  return terms;
}

absl::StatusOr<SaleCondition> SaleTerm(const FilterTerm& t, bool walk_in_allowed) {
  if (t.field == "status") {
    v1::SaleStatus status;
    if (t.quoted || !v1::SaleStatus_Parse(absl::StrCat("SALE_STATUS_", t.value), &status) ||
        status == v1::SALE_STATUS_UNSPECIFIED) {
      return FilterError(t, "unknown status");
    }
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return SaleStatusIs{status, *equal};
  }
  if (t.field == "open") {
    auto open = BoolValue(t);
    if (!open.ok()) return open.status();
    return SaleOpen{*open};
  }
  if (t.field == "overdue") {
    auto overdue = BoolValue(t);
    if (!overdue.ok()) return overdue.status();
    return SaleOverdue{*overdue};
  }
  if (t.field == "store_id") {
    if (!t.quoted) return FilterError(t, "expects a quoted value");
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return StoreIs{t.value, *equal};
  }
  if (t.field == "walk_in" && walk_in_allowed) {
    auto walk_in = BoolValue(t);
    if (!walk_in.ok()) return walk_in.status();
    return SaleWalkIn{*walk_in};
  }
  return FilterError(t, "unknown field");
}

absl::StatusOr<PaymentCondition> PaymentTerm(const FilterTerm& t) {
  if (t.field == "method") {
    v1::PaymentMethod method;
    if (t.quoted || !v1::PaymentMethod_Parse(absl::StrCat("PAYMENT_METHOD_", t.value), &method) ||
        method == v1::PAYMENT_METHOD_UNSPECIFIED) {
      return FilterError(t, "unknown method");
    }
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return PaymentMethodIs{method, *equal};
  }
  if (t.field == "status") {
    if (t.value != "ACTIVE" && t.value != "VOIDED") return FilterError(t, "unknown status");
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return PaymentStatusIs{
        t.value == "ACTIVE" ? v1::PAYMENT_STATUS_ACTIVE : v1::PAYMENT_STATUS_VOIDED, *equal};
  }
  if (t.field == "origin") {
    if (t.value != "PAYMENT" && t.value != "SALE") return FilterError(t, "unknown origin");
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return PaymentOriginIs{t.value == "SALE" ? v1::PAYMENT_ORIGIN_SALE : v1::PAYMENT_ORIGIN_PAYMENT,
                           *equal};
  }
  if (t.field == "store_id") {
    if (!t.quoted) return FilterError(t, "expects a quoted value");
    auto equal = Equality(t);
    if (!equal.ok()) return equal.status();
    return StoreIs{t.value, *equal};
  }
  if (t.field == "has_credit") {
    auto has_credit = BoolValue(t);
    if (!has_credit.ok()) return has_credit.status();
    return PaymentHasCredit{*has_credit};
  }
  return FilterError(t, "unknown field");
}

// One receivable term into `query` (balance and days_overdue: a minimum each time).
absl::Status ReceivableTerm(const FilterTerm& t, ReceivableListQuery& query) {
  if (t.field == "store_id" && t.op == "=" && t.quoted) {
    query.store_id = t.value;
  } else if (t.field == "category_id" && t.op == "=" && t.quoted) {
    query.category_id = t.value;
  } else if (t.field == "overdue") {
    auto overdue = BoolValue(t);
    if (!overdue.ok()) return overdue.status();
    query.overdue = *overdue;
  } else if ((t.field == "balance" || t.field == "days_overdue") && (t.op == ">" || t.op == ">=") &&
             !t.quoted) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(t.value, &v)) return FilterError(t, "expects an integer");
    (t.field == "balance" ? query.min_balance : query.min_days_overdue)
        .push_back({t.op == ">=", v});
  } else {
    return FilterError(t, "unsupported term");
  }
  return absl::OkStatus();
}

// A sale or payment filter: `date_field` and `time_field` bound the entry's time, every
// other field is `term`'s.
template <typename Query, typename Term>
absl::Status ApplyEntryFilter(absl::string_view filter, absl::TimeZone tz,
                              const std::string& date_field, const std::string& time_field,
                              Term term, Query& query) {
  auto terms = Terms(filter, {date_field, time_field});
  if (!terms.ok()) return terms.status();
  for (const FilterTerm& t : *terms) {
    if (t.field == date_field || t.field == time_field) {
      absl::Status s = AddTimeBounds(t, t.field == date_field, tz, query.conditions);
      if (!s.ok()) return s;
      continue;
    }
    auto condition = term(t);
    if (!condition.ok()) return condition.status();
    query.conditions.push_back(*std::move(condition));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyFilter(absl::string_view filter, absl::TimeZone tz, SaleListQuery& query) {
  const bool walk_in_allowed = query.customer_id.empty();
  return ApplyEntryFilter(
      filter, tz, "sale_date", "sale_time",
      [&](const FilterTerm& t) { return SaleTerm(t, walk_in_allowed); }, query);
}

absl::Status ApplyFilter(absl::string_view filter, absl::TimeZone tz, PaymentListQuery& query) {
  return ApplyEntryFilter(filter, tz, "received_date", "received_time", PaymentTerm, query);
}

absl::Status ApplyFilter(absl::string_view filter, ReceivableListQuery& query) {
  auto terms = Terms(filter, {"balance", "days_overdue"});
  if (!terms.ok()) return terms.status();
  for (const FilterTerm& t : *terms) {
    if (absl::Status s = ReceivableTerm(t, query); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ApplyFilter(absl::string_view filter, CreditLimitListQuery& query) {
  auto terms = Terms(filter, {});
  if (!terms.ok()) return terms.status();
  for (const FilterTerm& t : *terms) {
    if (t.field != "subject" || t.op != "=" || (t.value != "CUSTOMER" && t.value != "CATEGORY")) {
      return FilterError(t, "unsupported term");
    }
    query.subject = t.value == "CUSTOMER" ? "customer" : "category";
  }
  return absl::OkStatus();
}

}  // namespace kelola::ledger::api
