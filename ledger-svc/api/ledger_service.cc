#include "ledger-svc/api/ledger_service.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/api/ledger_commands.h"
#include "ledger-svc/api/ledger_queries.h"
#include "ledger-svc/api/ledger_validation.h"
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

// A List RPC: the request as the store's query (api/ledger_queries.h), the page `read`
// returns as the response.
template <typename Request, typename Response, typename Query, typename Page>
grpc::Status AnswerList(LedgerStore& store,
                        absl::StatusOr<Page> (LedgerStore::*read)(const LedgerContext&,
                                                                  const Query&),
                        const LedgerContext& ctx, const Request& req, Response* response) {
  auto query = api::ToQuery(ctx, req);
  if (!query.ok()) return ToGrpc(query.status());
  auto page = (store.*read)(ctx, *query);
  if (!page.ok()) return ToGrpc(page.status());
  *response = api::ToResponse(ctx, req, *std::move(page));
  return grpc::Status::OK;
}

// GetCreditLimit's answer from the customer's own limit and its category's: the one that
// applies (the customer's own first) and what is left of it above `balance`.
void AnswerLimits(const std::optional<v1::CreditLimit>& own,
                  const std::optional<v1::CreditLimit>& category, const type::v1::Money& balance,
                  const std::string& currency, v1::GetCreditLimitResponse& response) {
  *response.mutable_balance() = balance;
  const v1::CreditLimit* effective = nullptr;
  if (own.has_value()) {
    *response.mutable_credit_limit() = *own;
    effective = &*own;
    response.set_effective_source(v1::CREDIT_LIMIT_SOURCE_CUSTOMER);
  } else if (category.has_value()) {
    effective = &*category;
    response.set_effective_source(v1::CREDIT_LIMIT_SOURCE_CATEGORY);
  } else {
    response.set_effective_source(v1::CREDIT_LIMIT_SOURCE_NONE);
  }
  if (effective == nullptr) return;
  *response.mutable_effective_limit() = effective->limit();
  auto* available = response.mutable_available_credit();
  available->set_currency_code(currency);
  const int64_t left = effective->limit().amount_minor() - balance.amount_minor();
  available->set_amount_minor(left > 0 ? left : 0);
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
      *ctx, api::ToCommand(*req), idempotency::Print(*req),
      AskDirectory(*context, *ctx, req->customer_id(), /*archived_may_write=*/false, asked));
  if (asked && !recorded.ok()) {
    // customer-svc's refusal (or silence) does not stand against a recorded request.
    return RefusedUnlessReplay(store_, *ctx, "RecordSale", req->request_id(), *req, response,
                               recorded.status());
  }
  return Respond(std::move(recorded), response);
}

DirectoryQuestion LedgerServiceImpl::AskDirectory(const grpc::ServerContext& context,
                                                  const LedgerContext& ctx,
                                                  const std::string& customer_id,
                                                  bool archived_may_write, bool& asked) {
  return [this, &context, &ctx, &customer_id, archived_may_write,
          &asked]() -> absl::StatusOr<CustomerCheck> {
    asked = true;
    auto check = directory_.CheckForSale(ctx.tenant_id, customer_id, api::CallDeadline(context));
    // Archived customers may pay (what they owe, or credit): an answer, with nothing to
    // remember.
    if (archived_may_write && !check.ok() &&
        errors::Reason(check.status()) == "CUSTOMER_ARCHIVED") {
      return CustomerCheck{};
    }
    return check;
  };
}

absl::Status LedgerServiceImpl::CheckSale(const grpc::ServerContext& context, LedgerContext& ctx,
                                          const v1::RecordSaleRequest& req) {
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(context), ctx); !s.ok()) {
    return s;
  }
  return api::ValidateSale(req, ctx, Times());
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
  return AnswerList(store_, &LedgerStore::ListSales, *ctx, *req, response);
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
  if (auto s = api::ValidateVoidSale(*req); !s.ok()) return ToGrpc(s);
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
  if (auto s = api::ValidateRefund(*req, *ctx, Times()); !s.ok()) return ToGrpc(s);
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
  // As in RecordSale, whether the customer may pay is decided inside the write from the
  // ledger's projection; customer-svc is asked only about a customer it does not hold yet.
  bool asked = false;
  auto recorded = app_.record_payment.Run(
      *ctx, api::ToCommand(*req), idempotency::Print(*req),
      AskDirectory(*context, *ctx, req->customer_id(), /*archived_may_write=*/true, asked));
  if (asked && !recorded.ok()) {
    return RefusedUnlessReplay(store_, *ctx, "RecordPayment", req->request_id(), *req, response,
                               recorded.status());
  }
  return Respond(std::move(recorded), response);
}

absl::Status LedgerServiceImpl::CheckPayment(const grpc::ServerContext& context, LedgerContext& ctx,
                                             const v1::RecordPaymentRequest& req) {
  if (auto s = tenants_.ResolveForWrite(api::CallDeadline(context), ctx); !s.ok()) {
    return s;
  }
  return api::ValidatePayment(req, ctx, Times());
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
  return AnswerList(store_, &LedgerStore::ListPayments, *ctx, *req, response);
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
  if (auto s = api::ValidateVoidPayment(*req); !s.ok()) return ToGrpc(s);
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
  if (auto s = api::ValidateApplyCredit(*req, *ctx); !s.ok()) return ToGrpc(s);
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
  if (req->customer_ids_size() > 100) return ToGrpc(api::TooMany("customer_ids", 100));
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
  return AnswerList(store_, &LedgerStore::ListReceivables, *ctx, *req, response);
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
  if (auto s = api::ValidateSetCreditLimit(*req, *ctx); !s.ok()) return ToGrpc(s);
  const auto& limit = req->credit_limit();
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
  if (auto s = api::ValidateDeleteCreditLimit(*req); !s.ok()) return ToGrpc(s);
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
  response->set_category_id(category);
  AnswerLimits(*own, cat, (*balances)[0].balance(), ctx->currency, *response);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ListCreditLimits(grpc::ServerContext* context,
                                                 const v1::ListCreditLimitsRequest* req,
                                                 v1::ListCreditLimitsResponse* response) {
  auto ctx = Context(*context);
  if (!ctx.ok()) return ToGrpc(ctx.status());
  return AnswerList(store_, &LedgerStore::ListCreditLimits, *ctx, *req, response);
}

}  // namespace kelola::ledger
