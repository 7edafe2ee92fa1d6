#include "ledger-svc/api/ledger_validation.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/api/request_support.h"
#include "ledger-svc/domain/sale_math.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::ledger::api {
namespace {

// Money checks: the currency part is collected apart, so that a currency mismatch is
// reported with its own reason.
class MoneyChecker {
 public:
  MoneyChecker(errors::FieldErrors& fields, std::string currency)
      : fields_(fields), currency_code_(std::move(currency)) {}

  enum Rule { kZeroOrMore, kPositive };

  // Returns the amount (0 when unset).
  int64_t Check(const std::string& field, bool has, const type::v1::Money& m, Rule rule,
                bool required = false) {
    if (!has) {
      if (required) fields_.Add(field, "required");
      return 0;
    }
    if (m.currency_code() != currency_code_ &&
        !(m.currency_code().empty() && m.amount_minor() == 0)) {
      currency_errors_.Add(absl::StrCat(field, ".currency_code"),
                           absl::StrCat("must be the tenant's currency ", currency_code()));
    }
    if (rule == kPositive && m.amount_minor() <= 0) {
      fields_.Add(absl::StrCat(field, ".amount_minor"), "must be greater than zero");
    } else if (m.amount_minor() < 0) {
      fields_.Add(absl::StrCat(field, ".amount_minor"), "must not be negative");
    }
    return m.amount_minor();
  }

  const std::string& currency_code() const { return currency_code_; }
  // OK, or INVALID_ARGUMENT CURRENCY_MISMATCH.
  absl::Status CurrencyStatus() const { return currency_errors_.ToStatus("CURRENCY_MISMATCH"); }

 private:
  errors::FieldErrors& fields_;
  std::string currency_code_;
  errors::FieldErrors currency_errors_;
};

void CheckTime(errors::FieldErrors& fields, const std::string& field, bool has,
               const google::protobuf::Timestamp& ts, absl::Time now, absl::Duration tolerance) {
  if (!has) return;
  auto t = time::FromTimestamp(ts, field);
  if (!t.ok()) {
    fields.Merge("", t.status());
  } else if (*t < absl::UnixEpoch()) {
    fields.Add(field, "before 1970-01-01T00:00:00Z");
  } else if (*t > now + tolerance) {
    fields.Add(field,
               absl::StrCat("more than ", absl::FormatDuration(tolerance), " in the future"));
  }
}

bool ValidMethod(v1::PaymentMethod m) {
  return v1::PaymentMethod_IsValid(m) && m != v1::PAYMENT_METHOD_UNSPECIFIED;
}

// The amounts of a request's allocations: each a sale named once with a positive amount.
struct AllocationSum {
  int64_t sum = 0;
  bool overflow = false;
};

template <typename Allocations>
AllocationSum CheckAllocations(errors::FieldErrors& fields, MoneyChecker& money,
                               const Allocations& allocations) {
  AllocationSum out;
  std::set<std::string> seen;
  for (int i = 0; i < allocations.size(); ++i) {
    const auto& a = allocations[i];
    const std::string p = absl::StrCat("allocations[", i, "]");
    CheckId(fields, p + ".sale_id", a.sale_id(), true);
    if (!a.sale_id().empty() && !seen.insert(a.sale_id()).second) {
      fields.Add(p + ".sale_id", "the same sale twice");
    }
    const int64_t v =
        money.Check(p + ".amount", a.has_amount(), a.amount(), MoneyChecker::kPositive, true);
    if (__builtin_add_overflow(out.sum, v, &out.sum)) out.overflow = true;
  }
  return out;
}

// The sale's lines, each checked.
std::vector<LineInput> CheckSaleItems(const v1::RecordSaleRequest& req, errors::FieldErrors& fields,
                                      MoneyChecker& money) {
  std::vector<LineInput> lines;
  for (int i = 0; i < req.items_size(); ++i) {
    const auto& item = req.items(i);
    const std::string p = absl::StrCat("items[", i, "]");
    CheckLength(fields, p + ".sku", item.sku(), 100);
    CheckLength(fields, p + ".name", item.name(), 200, true);
    CheckLength(fields, p + ".unit", item.unit(), 20);
    if (item.quantity_milli() <= 0 || item.quantity_milli() > 1000000000000) {
      fields.Add(p + ".quantity_milli", "must be greater than 0 and at most 10^12");
    }
    const int64_t price = money.Check(p + ".unit_price", item.has_unit_price(), item.unit_price(),
                                      MoneyChecker::kZeroOrMore, true);
    const int64_t discount = money.Check(p + ".line_discount", item.has_line_discount(),
                                         item.line_discount(), MoneyChecker::kZeroOrMore);
    if (item.quantity_milli() > 0 && price >= 0 && discount > 0) {
      auto gross = LineGross(item.quantity_milli(), price);
      if (gross.ok() && discount > *gross) {
        fields.Add(p + ".line_discount", "larger than the line's amount");
      }
    }
    lines.push_back({item.quantity_milli(), price, discount});
  }
  return lines;
}

// sale_time, and due_date not before the sale's day in the tenant's calendar.
void CheckSaleTimes(const v1::RecordSaleRequest& req, const LedgerContext& ctx,
                    const TimeRules& times, errors::FieldErrors& fields) {
  CheckTime(fields, "sale_time", req.has_sale_time(), req.sale_time(), times.now,
            times.future_tolerance);
  if (!req.has_due_date()) return;
  auto due = time::FromDate(req.due_date(), "due_date");
  if (!due.ok()) {
    fields.Merge("", due.status());
  } else {
    const absl::Time sale_time = req.has_sale_time() ? time::ToTime(req.sale_time()) : times.now;
    if (*due < absl::ToCivilDay(sale_time, ctx.time_zone)) {
      fields.Add("due_date", "before the sale's date");
    }
  }
}

// The sale's amounts as given, once each is valid.
struct SaleAmountsGiven {
  std::vector<LineInput> lines;
  int64_t order_discount = 0;
  int64_t total = 0;
  int64_t paid = 0;
  int64_t credit = 0;
};

// The sums: the total as computed, what is paid now and with credit at most the total, a
// walk-in sale paid in full.
absl::Status CheckSaleSums(const v1::RecordSaleRequest& req, const SaleAmountsGiven& given) {
  errors::FieldErrors fields;
  auto totals = ComputeTotals(given.lines, given.order_discount);
  if (!totals.ok()) return totals.status();
  if (given.order_discount > totals->subtotal) {
    fields.Add("order_discount", "larger than the subtotal");
    return fields.ToStatus();
  }
  if (totals->total != given.total) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "TOTAL_MISMATCH",
                         "total differs from the total computed from the items and discounts",
                         {{"computed_total", absl::StrCat(totals->total)},
                          {"given_total", absl::StrCat(given.total)}},
                         {{"total", absl::StrCat("computed total is ", totals->total)}});
  }
  auto paid_and_credit = CheckedAdd(given.paid, given.credit);
  if (!paid_and_credit.ok()) {
    return RequestAmountOverflow("apply_credit",
                                 "amount_paid_now + apply_credit does not fit in 64 bits");
  }
  if (*paid_and_credit > given.total) {
    fields.Add("amount_paid_now", "amount_paid_now + apply_credit is more than the total");
    return fields.ToStatus();
  }
  if (req.customer_id().empty() && (*paid_and_credit < given.total || given.credit > 0)) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, "CUSTOMER_REQUIRED",
        "a walk-in sale must be paid in full now; credit needs a customer", {},
        {{"customer_id", "required for a sale not paid in full or applying credit"}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TooMany(absl::string_view field, int max) {
  return errors::Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_ITEMS",
                       absl::StrCat("at most ", max, " ", field), {{"max", absl::StrCat(max)}},
                       {{std::string(field), absl::StrCat("at most ", max)}});
}

absl::Status ValidateSale(const v1::RecordSaleRequest& req, const LedgerContext& ctx,
                          const TimeRules& times) {
  if (req.items_size() > 500) return TooMany("items", 500);
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "sale_id", req.sale_id(), false);
  CheckId(fields, "customer_id", req.customer_id(), false);
  CheckLength(fields, "store_id", req.store_id(), 64, true);
  if (req.items_size() == 0) fields.Add("items", "at least one item is required");
  SaleAmountsGiven given;
  given.lines = CheckSaleItems(req, fields, money);
  given.order_discount = money.Check("order_discount", req.has_order_discount(),
                                     req.order_discount(), MoneyChecker::kZeroOrMore);
  given.total = money.Check("total", req.has_total(), req.total(), MoneyChecker::kZeroOrMore, true);
  given.paid = money.Check("amount_paid_now", req.has_amount_paid_now(), req.amount_paid_now(),
                           MoneyChecker::kZeroOrMore);
  given.credit = money.Check("apply_credit", req.has_apply_credit(), req.apply_credit(),
                             MoneyChecker::kZeroOrMore);
  if (given.paid > 0 && !ValidMethod(req.payment_method())) {
    fields.Add("payment_method", "required when amount_paid_now > 0 (a known method)");
  } else if (req.payment_method() != v1::PAYMENT_METHOD_UNSPECIFIED &&
             !ValidMethod(req.payment_method())) {
    fields.Add("payment_method", "unknown payment method");
  }
  CheckLength(fields, "payment_method_detail", req.payment_method_detail(), 100);
  CheckLength(fields, "payment_reference", req.payment_reference(), 100);
  CheckLength(fields, "note", req.note(), 1000);
  CheckLength(fields, "external_reference", req.external_reference(), 100);
  CheckSaleTimes(req, ctx, times, fields);
  if (!fields.empty()) return fields.ToStatus();
  if (auto st = money.CurrencyStatus(); !st.ok()) return st;
  return CheckSaleSums(req, given);
}

absl::Status ValidatePayment(const v1::RecordPaymentRequest& req, const LedgerContext& ctx,
                             const TimeRules& times) {
  if (req.allocations_size() > 500) return TooMany("allocations", 500);
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "payment_id", req.payment_id(), false);
  CheckId(fields, "customer_id", req.customer_id(), true);
  CheckLength(fields, "store_id", req.store_id(), 64);
  const int64_t amount =
      money.Check("amount", req.has_amount(), req.amount(), MoneyChecker::kPositive, true);
  if (!ValidMethod(req.method())) fields.Add("method", "required: a known payment method");
  CheckLength(fields, "method_detail", req.method_detail(), 100);
  CheckLength(fields, "reference", req.reference(), 100);
  CheckLength(fields, "note", req.note(), 1000);
  CheckTime(fields, "received_time", req.has_received_time(), req.received_time(), times.now,
            times.future_tolerance);
  const AllocationSum allocated = CheckAllocations(fields, money, req.allocations());
  if (!allocated.overflow && allocated.sum > amount && amount > 0) {
    fields.Add("allocations", "allocations add up to more than the amount");
  }
  if (!fields.empty()) return fields.ToStatus();
  if (auto st = money.CurrencyStatus(); !st.ok()) return st;
  if (allocated.overflow) {
    return RequestAmountOverflow("allocations", "the amounts add up to more than 64 bits");
  }
  return absl::OkStatus();
}

absl::Status ValidateApplyCredit(const v1::ApplyCreditRequest& req, const LedgerContext& ctx) {
  if (req.allocations_size() > 500) return TooMany("allocations", 500);
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "customer_id", req.customer_id(), true);
  const AllocationSum allocated = CheckAllocations(fields, money, req.allocations());
  money.Check("max_amount", req.has_max_amount(), req.max_amount(), MoneyChecker::kZeroOrMore);
  if (!fields.empty()) return fields.ToStatus();
  if (auto st = money.CurrencyStatus(); !st.ok()) return st;
  if (allocated.overflow) {
    return RequestAmountOverflow("allocations", "the amounts add up to more than 64 bits");
  }
  return absl::OkStatus();
}

absl::Status ValidateVoidSale(const v1::VoidSaleRequest& req) {
  errors::FieldErrors fields;
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "sale_id", req.sale_id(), true);
  CheckLength(fields, "reason", req.reason(), 500, true);
  return fields.ToStatus();
}

absl::Status ValidateVoidPayment(const v1::VoidPaymentRequest& req) {
  errors::FieldErrors fields;
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "payment_id", req.payment_id(), true);
  CheckLength(fields, "reason", req.reason(), 500, true);
  return fields.ToStatus();
}

absl::Status ValidateRefund(const v1::RefundSaleRequest& req, const LedgerContext& ctx,
                            const TimeRules& times) {
  if (req.items_size() > 500) return TooMany("items", 500);
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "sale_id", req.sale_id(), true);
  money.Check("amount", req.has_amount(), req.amount(), MoneyChecker::kPositive, true);
  CheckLength(fields, "reason", req.reason(), 500, true);
  CheckLength(fields, "store_id", req.store_id(), 64);
  if (!v1::RefundSettlement_IsValid(req.settlement())) {
    fields.Add("settlement", "unknown settlement");
  }
  if (req.payout_method() != v1::PAYMENT_METHOD_UNSPECIFIED && !ValidMethod(req.payout_method())) {
    fields.Add("payout_method", "unknown payment method");
  }
  std::set<int> seen;
  for (int i = 0; i < req.items_size(); ++i) {
    if (req.items(i).quantity_milli() <= 0) {
      fields.Add(absl::StrCat("items[", i, "].quantity_milli"), "must be greater than zero");
    }
    if (!seen.insert(req.items(i).item_index()).second) {
      fields.Add(absl::StrCat("items[", i, "].item_index"), "the same line twice");
    }
  }
  CheckTime(fields, "refund_time", req.has_refund_time(), req.refund_time(), times.now,
            times.future_tolerance);
  if (!fields.empty()) return fields.ToStatus();
  return money.CurrencyStatus();
}

absl::Status ValidateSetCreditLimit(const v1::SetCreditLimitRequest& req,
                                    const LedgerContext& ctx) {
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  const auto& limit = req.credit_limit();
  if (limit.subject_case() == v1::CreditLimit::kCustomerId) {
    CheckId(fields, "credit_limit.customer_id", limit.customer_id(), true);
  } else if (limit.subject_case() == v1::CreditLimit::kCategoryId) {
    CheckId(fields, "credit_limit.category_id", limit.category_id(), true);
  } else {
    fields.Add("credit_limit.subject", "customer_id or category_id is required");
  }
  money.Check("credit_limit.limit", limit.has_limit(), limit.limit(), MoneyChecker::kZeroOrMore,
              true);
  if (!fields.empty()) return fields.ToStatus();
  return money.CurrencyStatus();
}

absl::Status ValidateDeleteCreditLimit(const v1::DeleteCreditLimitRequest& req) {
  errors::FieldErrors fields;
  CheckRequestId(fields, req.request_id());
  if (req.subject_case() == v1::DeleteCreditLimitRequest::kCustomerId) {
    CheckId(fields, "customer_id", req.customer_id(), true);
  } else if (req.subject_case() == v1::DeleteCreditLimitRequest::kCategoryId) {
    CheckId(fields, "category_id", req.category_id(), true);
  } else {
    fields.Add("subject", "customer_id or category_id is required");
  }
  return fields.ToStatus();
}

}  // namespace kelola::ledger::api
