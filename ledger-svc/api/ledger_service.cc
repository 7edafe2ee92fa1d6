#include "ledger-svc/api/ledger_service.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/api/ledger_commands.h"
#include "ledger-svc/api/request_support.h"
#include "ledger-svc/domain/sale_math.h"
#include "libs/errors/errors.h"
#include "libs/money/money.h"
#include "libs/server/request_context.h"
#include "libs/time/time.h"

namespace kelola::ledger {
namespace {

using api::CheckId;
using api::CheckLength;
using api::CheckRequestId;
using api::IsValidEntityId;
using api::Respond;
using api::ToGrpc;

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

// Replays a stored response when the request_id was seen: returns true when `response`
// was filled (or `status` set to an error).
template <typename Response>
bool Replay(LedgerStore& store, const LedgerContext& ctx, absl::string_view rpc,
            const std::string& request_id, const google::protobuf::Message& request,
            Response* response, grpc::Status* status) {
  if (!api::IsValidRequestId(request_id)) return false;  // refused by validation
  auto found = store.FindReplay(ctx, rpc, request_id, idempotency::Print(request));
  if (!found.ok()) {
    *status = ToGrpc(found.status());
    return true;
  }
  if (!found->has_value()) return false;
  if (!response->ParseFromString(**found)) {
    *status = ToGrpc(absl::InternalError("stored response unreadable"));
  }
  return true;
}

// The answer to a write refused by its checks: the stored response when the request_id was
// recorded earlier with this request, else the refusal.
template <typename Response>
grpc::Status RefusedUnlessReplay(LedgerStore& store, const LedgerContext& ctx,
                                 absl::string_view rpc, const std::string& request_id,
                                 const google::protobuf::Message& request, Response* response,
                                 const absl::Status& refusal) {
  grpc::Status replayed;
  if (Replay(store, ctx, rpc, request_id, request, response, &replayed)) return replayed;
  return ToGrpc(refusal);
}

// STORE_NOT_ALLOWED when an existing entry of `ids` (`entity` "sale" or "payment") belongs
// to a store the principal may not act for. Asked before the write and before a request_id
// replay, which would otherwise answer with the entry; an entry's store never changes, so
// the answer still holds when the write runs. Unknown ids pass: the write reports them.
absl::Status CheckEntryStores(LedgerStore& store, const LedgerContext& ctx,
                              absl::string_view entity, const std::vector<std::string>& ids) {
  if (ctx.stores.empty() || ids.empty()) return absl::OkStatus();
  auto stores = store.EntryStores(ctx, entity, ids);
  if (!stores.ok()) return stores.status();
  for (const auto& [id, store_id] : *stores) {
    if (absl::Status s = api::RequireStore(ctx, store_id); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The sales named by a request's allocations.
template <typename Allocations>
std::vector<std::string> AllocatedSales(const Allocations& allocations) {
  std::vector<std::string> ids;
  for (const auto& a : allocations) ids.push_back(a.sale_id());
  return ids;
}

absl::Status TooMany(absl::string_view field, int max) {
  return errors::Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_ITEMS",
                       absl::StrCat("at most ", max, " ", field), {{"max", absl::StrCat(max)}},
                       {{std::string(field), absl::StrCat("at most ", max)}});
}

}  // namespace

absl::StatusOr<LedgerContext> LedgerServiceImpl::Context(const grpc::ServerContext& context) {
  auto ctx = api::ReadLedgerContext(context);
  if (!ctx.ok()) return ctx.status();
  if (auto s = tenants_.Resolve(api::CallDeadline(context), *ctx); !s.ok()) return s;
  return ctx;
}

// ---------------------------------------------------------------------------------

grpc::Status LedgerServiceImpl::RecordSale(grpc::ServerContext* context,
                                           const v1::RecordSaleRequest* req,
                                           v1::RecordSaleResponse* response) {
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  // The store limit holds for replays too (a missing store_id is refused below).
  if (!req->store_id().empty()) {
    if (absl::Status s = api::RequireStore(*ctx, req->store_id()); !s.ok()) return ToGrpc(s);
  }
  // The write claims its request_id in its own transaction, which answers a replay with the
  // stored response. A replay refused by these checks is answered too: the request was
  // valid when first recorded, and checks that depend on the clock or on customer-svc may
  // differ now. So the stored response is looked up only for a refused request.
  if (absl::Status checked = CheckSale(*context, *ctx, *req); !checked.ok()) {
    return RefusedUnlessReplay(store_, *ctx, "RecordSale", req->request_id(), *req, response,
                               checked);
  }
  // Whether the customer may buy is decided inside the write, from the ledger's projection
  // of customer-svc's directory. Only for a customer it does not hold yet is customer-svc
  // asked (and its answer remembered by the write).
  bool asked = false;
  auto recorded = app_.record_sale.Run(
      *ctx, api::ToCommand(*req), idempotency::Print(*req), [&]() -> absl::StatusOr<CustomerCheck> {
        asked = true;
        return directory_.CheckForSale(ctx->tenant_id, req->customer_id(),
                                       api::CallDeadline(*context));
      });
  if (asked && !recorded.ok()) {
    // customer-svc's refusal (or silence) does not stand against a recorded request.
    return RefusedUnlessReplay(store_, *ctx, "RecordSale", req->request_id(), *req, response,
                               recorded.status());
  }
  return Respond(std::move(recorded), response);
}

absl::Status LedgerServiceImpl::CheckSale(const grpc::ServerContext& context, LedgerContext& ctx,
                                          const v1::RecordSaleRequest& req) {
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(context), ctx); !s.ok()) {
    return s;
  }
  if (req.items_size() > 500) return TooMany("items", 500);
  const absl::Time now = clock_.Now();
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx.currency);
  CheckRequestId(fields, req.request_id());
  CheckId(fields, "sale_id", req.sale_id(), false);
  CheckId(fields, "customer_id", req.customer_id(), false);
  CheckLength(fields, "store_id", req.store_id(), 64, true);
  if (req.items_size() == 0) fields.Add("items", "at least one item is required");
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
  const int64_t order_discount = money.Check("order_discount", req.has_order_discount(),
                                             req.order_discount(), MoneyChecker::kZeroOrMore);
  const int64_t total =
      money.Check("total", req.has_total(), req.total(), MoneyChecker::kZeroOrMore, true);
  const int64_t paid = money.Check("amount_paid_now", req.has_amount_paid_now(),
                                   req.amount_paid_now(), MoneyChecker::kZeroOrMore);
  const int64_t credit = money.Check("apply_credit", req.has_apply_credit(), req.apply_credit(),
                                     MoneyChecker::kZeroOrMore);
  if (paid > 0 && !ValidMethod(req.payment_method())) {
    fields.Add("payment_method", "required when amount_paid_now > 0 (a known method)");
  } else if (req.payment_method() != v1::PAYMENT_METHOD_UNSPECIFIED &&
             !ValidMethod(req.payment_method())) {
    fields.Add("payment_method", "unknown payment method");
  }
  CheckLength(fields, "payment_method_detail", req.payment_method_detail(), 100);
  CheckLength(fields, "payment_reference", req.payment_reference(), 100);
  CheckLength(fields, "note", req.note(), 1000);
  CheckLength(fields, "external_reference", req.external_reference(), 100);
  CheckTime(fields, "sale_time", req.has_sale_time(), req.sale_time(), now,
            options_.future_tolerance);
  if (req.has_due_date()) {
    auto due = time::FromDate(req.due_date(), "due_date");
    if (!due.ok()) {
      fields.Merge("", due.status());
    } else {
      const absl::Time sale_time = req.has_sale_time() ? time::ToTime(req.sale_time()) : now;
      if (*due < absl::ToCivilDay(sale_time, ctx.time_zone)) {
        fields.Add("due_date", "before the sale's date");
      }
    }
  }
  if (!fields.empty()) return fields.ToStatus();
  if (auto st = money.CurrencyStatus(); !st.ok()) return st;
  auto totals = ComputeTotals(lines, order_discount);
  if (!totals.ok()) return totals.status();
  if (order_discount > totals->subtotal) {
    fields.Add("order_discount", "larger than the subtotal");
    return fields.ToStatus();
  }
  if (totals->total != total) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, "TOTAL_MISMATCH",
        "total differs from the total computed from the items and discounts",
        {{"computed_total", absl::StrCat(totals->total)}, {"given_total", absl::StrCat(total)}},
        {{"total", absl::StrCat("computed total is ", totals->total)}});
  }
  auto paid_and_credit = CheckedAdd(paid, credit);
  if (!paid_and_credit.ok()) {
    return RequestAmountOverflow("apply_credit",
                                 "amount_paid_now + apply_credit does not fit in 64 bits");
  }
  if (*paid_and_credit > total) {
    fields.Add("amount_paid_now", "amount_paid_now + apply_credit is more than the total");
    return fields.ToStatus();
  }
  if (req.customer_id().empty() && (*paid_and_credit < total || credit > 0)) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, "CUSTOMER_REQUIRED",
        "a walk-in sale must be paid in full now; credit needs a customer", {},
        {{"customer_id", "required for a sale not paid in full or applying credit"}});
  }
  return absl::OkStatus();
}

grpc::Status LedgerServiceImpl::GetSale(grpc::ServerContext* context, const v1::GetSaleRequest* req,
                                        v1::GetSaleResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "sale_id", req->sale_id(), true);
  if (!v1::SaleView_IsValid(req->view())) fields.Add("view", "unknown view");
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  auto sale =
      store_.GetSale(*ctx, req->sale_id(),
                     req->view() == v1::SALE_VIEW_UNSPECIFIED ? v1::SALE_VIEW_FULL : req->view());
  if (!sale.ok()) return ToGrpc(sale.status());
  if (absl::Status s = api::RequireStore(*ctx, sale->store_id()); !s.ok()) return ToGrpc(s);
  *response->mutable_sale() = *std::move(sale);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ListSales(grpc::ServerContext* context,
                                          const v1::ListSalesRequest* req,
                                          v1::ListSalesResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "customer_id", req->customer_id(), false);
  if (!v1::SaleView_IsValid(req->view())) fields.Add("view", "unknown view");
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  return Respond(store_.ListSales(*ctx, *req), response);
}

grpc::Status LedgerServiceImpl::VoidSale(grpc::ServerContext* context,
                                         const v1::VoidSaleRequest* req,
                                         v1::VoidSaleResponse* response) {
  if (absl::Status denied = server::Authorize(*context, "/kelola.ledger.v1.LedgerService/VoidSale");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (absl::Status s = CheckEntryStores(store_, *ctx, "sale", {req->sale_id()}); !s.ok()) {
    return ToGrpc(s);
  }
  grpc::Status replayed;  // answered without customer-svc, as in RecordSale
  if (Replay(store_, *ctx, "VoidSale", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  errors::FieldErrors fields;
  CheckRequestId(fields, req->request_id());
  CheckId(fields, "sale_id", req->sale_id(), true);
  CheckLength(fields, "reason", req->reason(), 500, true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  return Respond(app_.void_sale.Run(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::RefundSale(grpc::ServerContext* context,
                                           const v1::RefundSaleRequest* req,
                                           v1::RefundSaleResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.ledger.v1.LedgerService/RefundSale");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  // Both the sale's store and the store of the refund, when one is named.
  if (absl::Status s = CheckEntryStores(store_, *ctx, "sale", {req->sale_id()}); !s.ok()) {
    return ToGrpc(s);
  }
  if (!req->store_id().empty()) {
    if (absl::Status s = api::RequireStore(*ctx, req->store_id()); !s.ok()) return ToGrpc(s);
  }
  grpc::Status replayed;  // answered without customer-svc, as in RecordSale
  if (Replay(store_, *ctx, "RefundSale", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  if (req->items_size() > 500) return ToGrpc(TooMany("items", 500));
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx->currency);
  CheckRequestId(fields, req->request_id());
  CheckId(fields, "sale_id", req->sale_id(), true);
  money.Check("amount", req->has_amount(), req->amount(), MoneyChecker::kPositive, true);
  CheckLength(fields, "reason", req->reason(), 500, true);
  CheckLength(fields, "store_id", req->store_id(), 64);
  if (!v1::RefundSettlement_IsValid(req->settlement())) {
    fields.Add("settlement", "unknown settlement");
  }
  if (req->payout_method() != v1::PAYMENT_METHOD_UNSPECIFIED &&
      !ValidMethod(req->payout_method())) {
    fields.Add("payout_method", "unknown payment method");
  }
  std::set<int> seen;
  for (int i = 0; i < req->items_size(); ++i) {
    if (req->items(i).quantity_milli() <= 0) {
      fields.Add(absl::StrCat("items[", i, "].quantity_milli"), "must be greater than zero");
    }
    if (!seen.insert(req->items(i).item_index()).second) {
      fields.Add(absl::StrCat("items[", i, "].item_index"), "the same line twice");
    }
  }
  CheckTime(fields, "refund_time", req->has_refund_time(), req->refund_time(), clock_.Now(),
            options_.future_tolerance);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  if (auto st = money.CurrencyStatus(); !st.ok()) return ToGrpc(st);
  return Respond(app_.refund_sale.Run(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::RecordPayment(grpc::ServerContext* context,
                                              const v1::RecordPaymentRequest* req,
                                              v1::RecordPaymentResponse* response) {
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  // The store limit holds for replays too. A principal limited to some stores names one of
  // them (a payment not at a store is not one of its entries), and allocates only to sales
  // it may see.
  if (absl::Status s = api::RequireStore(*ctx, req->store_id()); !s.ok()) return ToGrpc(s);
  if (absl::Status s = CheckEntryStores(store_, *ctx, "sale", AllocatedSales(req->allocations()));
      !s.ok()) {
    return ToGrpc(s);
  }
  // As in RecordSale: a replay is answered by the write, or when refused by these checks.
  if (absl::Status checked = CheckPayment(*context, *ctx, *req); !checked.ok()) {
    return RefusedUnlessReplay(store_, *ctx, "RecordPayment", req->request_id(), *req, response,
                               checked);
  }
  return Respond(app_.record_payment.Run(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

absl::Status LedgerServiceImpl::CheckPayment(const grpc::ServerContext& context, LedgerContext& ctx,
                                             const v1::RecordPaymentRequest& req) {
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(context), ctx); !s.ok()) {
    return s;
  }
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
  CheckTime(fields, "received_time", req.has_received_time(), req.received_time(), clock_.Now(),
            options_.future_tolerance);
  std::set<std::string> seen;
  int64_t sum = 0;
  bool overflow = false;
  for (int i = 0; i < req.allocations_size(); ++i) {
    const auto& a = req.allocations(i);
    const std::string p = absl::StrCat("allocations[", i, "]");
    CheckId(fields, p + ".sale_id", a.sale_id(), true);
    if (!a.sale_id().empty() && !seen.insert(a.sale_id()).second) {
      fields.Add(p + ".sale_id", "the same sale twice");
    }
    const int64_t v =
        money.Check(p + ".amount", a.has_amount(), a.amount(), MoneyChecker::kPositive, true);
    if (__builtin_add_overflow(sum, v, &sum)) overflow = true;
  }
  if (!overflow && sum > amount && amount > 0) {
    fields.Add("allocations", "allocations add up to more than the amount");
  }
  if (!fields.empty()) return fields.ToStatus();
  if (auto st = money.CurrencyStatus(); !st.ok()) return st;
  if (overflow) {
    return RequestAmountOverflow("allocations", "the amounts add up to more than 64 bits");
  }
  auto check =
      directory_.CheckForSale(ctx.tenant_id, req.customer_id(), api::CallDeadline(context));
  if (!check.ok() && errors::Reason(check.status()) != "CUSTOMER_ARCHIVED") {
    return check.status();  // archived customers may pay
  }
  return absl::OkStatus();
}

grpc::Status LedgerServiceImpl::GetPayment(grpc::ServerContext* context,
                                           const v1::GetPaymentRequest* req,
                                           v1::GetPaymentResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "payment_id", req->payment_id(), true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  auto p = store_.GetPayment(*ctx, req->payment_id());
  if (!p.ok()) return ToGrpc(p.status());
  if (absl::Status s = api::RequireStore(*ctx, p->store_id()); !s.ok()) return ToGrpc(s);
  *response->mutable_payment() = *std::move(p);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ListPayments(grpc::ServerContext* context,
                                             const v1::ListPaymentsRequest* req,
                                             v1::ListPaymentsResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "customer_id", req->customer_id(), false);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  return Respond(store_.ListPayments(*ctx, *req), response);
}

grpc::Status LedgerServiceImpl::VoidPayment(grpc::ServerContext* context,
                                            const v1::VoidPaymentRequest* req,
                                            v1::VoidPaymentResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.ledger.v1.LedgerService/VoidPayment");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (absl::Status s = CheckEntryStores(store_, *ctx, "payment", {req->payment_id()}); !s.ok()) {
    return ToGrpc(s);
  }
  grpc::Status replayed;  // answered without customer-svc, as in RecordSale
  if (Replay(store_, *ctx, "VoidPayment", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  errors::FieldErrors fields;
  CheckRequestId(fields, req->request_id());
  CheckId(fields, "payment_id", req->payment_id(), true);
  CheckLength(fields, "reason", req->reason(), 500, true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  return Respond(app_.void_payment.Run(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::ApplyCredit(grpc::ServerContext* context,
                                            const v1::ApplyCreditRequest* req,
                                            v1::ApplyCreditResponse* response) {
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (absl::Status s = CheckEntryStores(store_, *ctx, "sale", AllocatedSales(req->allocations()));
      !s.ok()) {
    return ToGrpc(s);
  }
  grpc::Status replayed;  // answered without customer-svc, as in RecordSale
  if (Replay(store_, *ctx, "ApplyCredit", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  if (req->allocations_size() > 500) return ToGrpc(TooMany("allocations", 500));
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx->currency);
  CheckRequestId(fields, req->request_id());
  CheckId(fields, "customer_id", req->customer_id(), true);
  std::set<std::string> seen;
  int64_t sum = 0;
  bool overflow = false;
  for (int i = 0; i < req->allocations_size(); ++i) {
    const auto& a = req->allocations(i);
    const std::string p = absl::StrCat("allocations[", i, "]");
    CheckId(fields, p + ".sale_id", a.sale_id(), true);
    if (!a.sale_id().empty() && !seen.insert(a.sale_id()).second) {
      fields.Add(p + ".sale_id", "the same sale twice");
    }
    const int64_t v =
        money.Check(p + ".amount", a.has_amount(), a.amount(), MoneyChecker::kPositive, true);
    if (__builtin_add_overflow(sum, v, &sum)) overflow = true;
  }
  money.Check("max_amount", req->has_max_amount(), req->max_amount(), MoneyChecker::kZeroOrMore);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  if (auto st = money.CurrencyStatus(); !st.ok()) return ToGrpc(st);
  if (overflow) {
    return ToGrpc(RequestAmountOverflow("allocations", "the amounts add up to more than 64 bits"));
  }
  return Respond(app_.apply_credit.Run(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::GetBalance(grpc::ServerContext* context,
                                           const v1::GetBalanceRequest* req,
                                           v1::GetBalanceResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "customer_id", req->customer_id(), true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  auto out = store_.GetBalances(*ctx, {req->customer_id()});
  if (!out.ok()) return ToGrpc(out.status());
  *response->mutable_balance() = (*out)[0];
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::BatchGetBalances(grpc::ServerContext* context,
                                                 const v1::BatchGetBalancesRequest* req,
                                                 v1::BatchGetBalancesResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  if (req->customer_ids_size() > 100) return ToGrpc(TooMany("customer_ids", 100));
  errors::FieldErrors fields;
  if (req->customer_ids_size() == 0) fields.Add("customer_ids", "at least one id is required");
  for (int i = 0; i < req->customer_ids_size(); ++i) {
    CheckId(fields, absl::StrCat("customer_ids[", i, "]"), req->customer_ids(i), true);
  }
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  auto out = store_.GetBalances(
      *ctx, std::vector<std::string>(req->customer_ids().begin(), req->customer_ids().end()));
  if (!out.ok()) return ToGrpc(out.status());
  for (auto& b : *out) *response->add_balances() = std::move(b);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ListReceivables(grpc::ServerContext* context,
                                                const v1::ListReceivablesRequest* req,
                                                v1::ListReceivablesResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  return Respond(store_.ListReceivables(*ctx, *req), response);
}

grpc::Status LedgerServiceImpl::GetCustomerLedgerStats(
    grpc::ServerContext* context, const v1::GetCustomerLedgerStatsRequest* req,
    v1::GetCustomerLedgerStatsResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  CheckId(fields, "customer_id", req->customer_id(), true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  auto out = store_.GetStats(*ctx, req->customer_id());
  if (!out.ok()) return ToGrpc(out.status());
  *response->mutable_stats() = *std::move(out);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::SetCreditLimit(grpc::ServerContext* context,
                                               const v1::SetCreditLimitRequest* req,
                                               v1::SetCreditLimitResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.ledger.v1.LedgerService/SetCreditLimit");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  // A replay is answered before anything else: the request was valid when first
  // recorded, and checks that depend on the clock or on customer-svc may differ now.
  grpc::Status replayed;
  if (Replay(store_, *ctx, "SetCreditLimit", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  errors::FieldErrors fields;
  MoneyChecker money(fields, ctx->currency);
  CheckRequestId(fields, req->request_id());
  const auto& limit = req->credit_limit();
  if (limit.subject_case() == v1::CreditLimit::kCustomerId) {
    CheckId(fields, "credit_limit.customer_id", limit.customer_id(), true);
  } else if (limit.subject_case() == v1::CreditLimit::kCategoryId) {
    CheckId(fields, "credit_limit.category_id", limit.category_id(), true);
  } else {
    fields.Add("credit_limit.subject", "customer_id or category_id is required");
  }
  money.Check("credit_limit.limit", limit.has_limit(), limit.limit(), MoneyChecker::kZeroOrMore,
              true);
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  if (auto st = money.CurrencyStatus(); !st.ok()) return ToGrpc(st);
  if (limit.subject_case() == v1::CreditLimit::kCustomerId) {
    auto check =
        directory_.CheckForSale(ctx->tenant_id, limit.customer_id(), api::CallDeadline(*context));
    if (!check.ok() && errors::Reason(check.status()) != "CUSTOMER_ARCHIVED") {
      return ToGrpc(check.status());
    }
  }
  return Respond(app_.credit_limits.Set(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::DeleteCreditLimit(grpc::ServerContext* context,
                                                  const v1::DeleteCreditLimitRequest* req,
                                                  v1::DeleteCreditLimitResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.ledger.v1.LedgerService/DeleteCreditLimit");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto ctx = api::ReadLedgerContext(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  grpc::Status replayed;  // answered without customer-svc, as in RecordSale
  if (Replay(store_, *ctx, "DeleteCreditLimit", req->request_id(), *req, response, &replayed)) {
    return replayed;
  }
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(*context), *ctx); !s.ok()) {
    return ToGrpc(s);
  }
  errors::FieldErrors fields;
  CheckRequestId(fields, req->request_id());
  if (req->subject_case() == v1::DeleteCreditLimitRequest::kCustomerId) {
    CheckId(fields, "customer_id", req->customer_id(), true);
  } else if (req->subject_case() == v1::DeleteCreditLimitRequest::kCategoryId) {
    CheckId(fields, "category_id", req->category_id(), true);
  } else {
    fields.Add("subject", "customer_id or category_id is required");
  }
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  return Respond(app_.credit_limits.Delete(*ctx, api::ToCommand(*req), idempotency::Print(*req)),
                 response);
}

grpc::Status LedgerServiceImpl::GetCreditLimit(grpc::ServerContext* context,
                                               const v1::GetCreditLimitRequest* req,
                                               v1::GetCreditLimitResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  errors::FieldErrors fields;
  if (req->subject_case() == v1::GetCreditLimitRequest::kCustomerId) {
    CheckId(fields, "customer_id", req->customer_id(), true);
  } else if (req->subject_case() == v1::GetCreditLimitRequest::kCategoryId) {
    CheckId(fields, "category_id", req->category_id(), true);
  } else {
    fields.Add("subject", "customer_id or category_id is required");
  }
  if (!fields.empty()) return ToGrpc(fields.ToStatus());
  if (req->subject_case() == v1::GetCreditLimitRequest::kCategoryId) {
    auto own = store_.FindCreditLimit(*ctx, "category", req->category_id());
    if (!own.ok()) return ToGrpc(own.status());
    if (own->has_value()) *response->mutable_credit_limit() = **own;
    return grpc::Status::OK;
  }
  auto check =
      directory_.CheckForSale(ctx->tenant_id, req->customer_id(), api::CallDeadline(*context));
  std::string category;
  if (check.ok()) {
    category = check->category_id;
  } else if (errors::Reason(check.status()) != "CUSTOMER_ARCHIVED") {
    return ToGrpc(check.status());
  }
  auto own = store_.FindCreditLimit(*ctx, "customer", req->customer_id());
  if (!own.ok()) return ToGrpc(own.status());
  std::optional<v1::CreditLimit> cat;
  if (!category.empty()) {
    auto found = store_.FindCreditLimit(*ctx, "category", category);
    if (!found.ok()) return ToGrpc(found.status());
    cat = *found;
  }
  auto balances = store_.GetBalances(*ctx, {req->customer_id()});
  if (!balances.ok()) return ToGrpc(balances.status());
  const auto& balance = (*balances)[0].balance();
  response->set_category_id(category);
  *response->mutable_balance() = balance;
  const v1::CreditLimit* effective = nullptr;
  if (own->has_value()) {
    *response->mutable_credit_limit() = **own;
    effective = &**own;
    response->set_effective_source(v1::CREDIT_LIMIT_SOURCE_CUSTOMER);
  } else if (cat.has_value()) {
    effective = &*cat;
    response->set_effective_source(v1::CREDIT_LIMIT_SOURCE_CATEGORY);
  } else {
    response->set_effective_source(v1::CREDIT_LIMIT_SOURCE_NONE);
  }
  if (effective != nullptr) {
    *response->mutable_effective_limit() = effective->limit();
    auto* available = response->mutable_available_credit();
    available->set_currency_code(ctx->currency);
    const int64_t left = effective->limit().amount_minor() - balance.amount_minor();
    available->set_amount_minor(left > 0 ? left : 0);
  }
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ListCreditLimits(grpc::ServerContext* context,
                                                 const v1::ListCreditLimitsRequest* req,
                                                 v1::ListCreditLimitsResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  return Respond(store_.ListCreditLimits(*ctx, *req), response);
}

}  // namespace kelola::ledger
