#include "ledger-svc/api/ledger_queries.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ledger-svc/api/list_filters.h"
#include "ledger-svc/domain/listing.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::ledger::api {
namespace {

absl::Status OrderByError() {
  return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY",
                       "unsupported order_by", {}, {{"order_by", "unsupported order"}});
}

absl::Status UnreadableToken() {
  return errors::Error(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID", "bad page_token",
                       {}, {{"page_token", "cannot be read"}});
}

// The store limit's part of a page token's binding, so that a token is refused
// (PAGE_TOKEN_MISMATCH) for a principal limited to other stores, or to none. Empty without
// a limit, so that those tokens are bound as they always were.
std::string StoresBinding(const LedgerContext& ctx) {
  if (ctx.stores.empty()) return "";
  std::vector<std::string> stores = ctx.stores;
  std::sort(stores.begin(), stores.end());
  stores.erase(std::unique(stores.begin(), stores.end()), stores.end());
  std::string out = "|stores";
  for (const std::string& store : stores) absl::StrAppend(&out, ":", store.size(), ":", store);
  return out;
}

std::string Binding(const LedgerContext& ctx, const v1::ListSalesRequest& req) {
  return absl::StrCat(ctx.tenant_id, "|ListSales|", req.customer_id(), "|", req.filter(), "|",
                      req.order_by(), "|", static_cast<int>(req.view()), StoresBinding(ctx));
}

std::string Binding(const LedgerContext& ctx, const v1::ListPaymentsRequest& req) {
  return absl::StrCat(ctx.tenant_id, "|ListPayments|", req.customer_id(), "|", req.filter(), "|",
                      req.order_by(), StoresBinding(ctx));
}

std::string Binding(const LedgerContext& ctx, const v1::ListReceivablesRequest& req) {
  return absl::StrCat(ctx.tenant_id, "|ListReceivables|", req.filter(), "|", req.order_by(),
                      StoresBinding(ctx));
}

std::string Binding(const LedgerContext& ctx, const v1::ListCreditLimitsRequest& req) {
  return absl::StrCat(ctx.tenant_id, "|ListCreditLimits|", req.filter(), "|", req.order_by());
}

// The keys of `req`'s page token (nullopt without one), or why it is refused.
template <typename Request>
absl::StatusOr<std::optional<std::vector<std::string>>> TokenKeys(const LedgerContext& ctx,
                                                                  const Request& req) {
  if (req.page_token().empty()) return std::nullopt;
  auto keys = DecodePageToken(req.page_token(), Binding(ctx, req));
  if (!keys.ok()) return keys.status();
  return std::optional<std::vector<std::string>>(*std::move(keys));
}

// ListSales and ListPayments: newest first by (`time_field`, number) unless "… asc".
template <typename Query, typename Request>
absl::StatusOr<Query> EntryQuery(const LedgerContext& ctx, const Request& req,
                                 absl::string_view time_field) {
  Query query;
  auto page_size = PageSize(req.page_size());
  if (!page_size.ok()) return page_size.status();
  query.page_size = *page_size;
  query.customer_id = req.customer_id();
  if (absl::Status s = ApplyFilter(req.filter(), ctx.time_zone, query); !s.ok()) return s;
  if (req.order_by() == absl::StrCat(time_field, " asc")) {
    query.oldest_first = true;
  } else if (!req.order_by().empty() && req.order_by() != absl::StrCat(time_field, " desc")) {
    return OrderByError();
  }
  auto keys = TokenKeys(ctx, req);
  if (!keys.ok()) return keys.status();
  if (keys->has_value()) {
    const std::vector<std::string>& k = **keys;
    EntryKey after;
    if (k.size() != 2 || !absl::SimpleAtoi(k[0], &after.time_micros) ||
        !absl::SimpleAtoi(k[1], &after.number)) {
      return UnreadableToken();
    }
    query.after = after;
  }
  return query;
}

template <typename Request>
std::string EntryToken(const LedgerContext& ctx, const Request& req,
                       const std::optional<EntryKey>& next) {
  if (!next.has_value()) return "";
  return EncodePageToken(Binding(ctx, req),
                         {absl::StrCat(next->time_micros), absl::StrCat(next->number)});
}

absl::StatusOr<ReceivableListQuery::Order> ReceivableOrder(const std::string& order_by) {
  if (order_by.empty() || order_by == "balance desc") return ReceivableListQuery::kBalanceDesc;
  if (order_by == "oldest_open_sale_time asc") return ReceivableListQuery::kOldestOpenSaleAsc;
  if (order_by == "days_overdue desc") return ReceivableListQuery::kDaysOverdueDesc;
  if (order_by == "overdue_amount desc") return ReceivableListQuery::kOverdueAmountDesc;
  return OrderByError();
}

type::v1::Money Money(int64_t amount_minor, const std::string& currency) {
  type::v1::Money money;
  money.set_amount_minor(amount_minor);
  money.set_currency_code(currency);
  return money;
}

v1::Receivable ToReceivable(const Receivable& r, const std::string& currency) {
  v1::Receivable out;
  out.set_customer_id(r.customer_id);
  *out.mutable_balance() = Money(r.balance, currency);
  *out.mutable_overdue_amount() = Money(r.overdue_amount, currency);
  out.set_days_overdue(r.days_overdue);
  out.set_open_sale_count(r.open_sale_count);
  *out.mutable_oldest_open_sale_time() = time::TimestampFromUnixMicros(r.oldest_open_sale_micros);
  if (r.last_payment_micros.has_value()) {
    *out.mutable_last_payment_time() = time::TimestampFromUnixMicros(*r.last_payment_micros);
  }
  if (r.credit.has_value()) *out.mutable_credit() = Money(*r.credit, currency);
  out.set_ledger_version(r.ledger_version);
  return out;
}

}  // namespace

absl::StatusOr<SaleListQuery> ToQuery(const LedgerContext& ctx, const v1::ListSalesRequest& req) {
  auto query = EntryQuery<SaleListQuery>(ctx, req, "sale_time");
  if (query.ok() && req.view() != v1::SALE_VIEW_UNSPECIFIED) query->view = req.view();
  return query;
}

absl::StatusOr<PaymentListQuery> ToQuery(const LedgerContext& ctx,
                                         const v1::ListPaymentsRequest& req) {
  return EntryQuery<PaymentListQuery>(ctx, req, "received_time");
}

absl::StatusOr<ReceivableListQuery> ToQuery(const LedgerContext& ctx,
                                            const v1::ListReceivablesRequest& req) {
  ReceivableListQuery query;
  auto page_size = PageSize(req.page_size());
  if (!page_size.ok()) return page_size.status();
  query.page_size = *page_size;
  if (absl::Status s = ApplyFilter(req.filter(), query); !s.ok()) return s;
  auto order = ReceivableOrder(req.order_by());
  if (!order.ok()) return order.status();
  query.order = *order;
  auto keys = TokenKeys(ctx, req);
  if (!keys.ok()) return keys.status();
  if (keys->has_value()) {
    const std::vector<std::string>& k = **keys;
    ReceivableKey after;
    if (k.size() != 2 || !absl::SimpleAtoi(k[0], &after.key)) return UnreadableToken();
    after.customer_id = k[1];
    query.after = std::move(after);
  }
  return query;
}

absl::StatusOr<CreditLimitListQuery> ToQuery(const LedgerContext& ctx,
                                             const v1::ListCreditLimitsRequest& req) {
  CreditLimitListQuery query;
  auto page_size = PageSize(req.page_size());
  if (!page_size.ok()) return page_size.status();
  query.page_size = *page_size;
  if (absl::Status s = ApplyFilter(req.filter(), query); !s.ok()) return s;
  if (req.order_by() == "limit desc") {
    query.order = CreditLimitListQuery::kLimitDesc;
  } else if (!req.order_by().empty() && req.order_by() != "update_time desc") {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY",
                         "unsupported order_by", {},
                         {{"order_by", "use \"update_time desc\" or \"limit desc\""}});
  }
  auto keys = TokenKeys(ctx, req);
  if (!keys.ok()) return keys.status();
  if (keys->has_value()) {
    const std::vector<std::string>& k = **keys;
    CreditLimitKey after;
    if (k.size() != 3 || !absl::SimpleAtoi(k[0], &after.key)) {
      return errors::Error(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID",
                           "bad page_token");
    }
    after.subject_id = k[1];
    after.subject = k[2];
    query.after = std::move(after);
  }
  return query;
}

v1::ListSalesResponse ToResponse(const LedgerContext& ctx, const v1::ListSalesRequest& req,
                                 SalePage page) {
  v1::ListSalesResponse out;
  for (v1::Sale& sale : page.sales) *out.add_sales() = std::move(sale);
  out.set_next_page_token(EntryToken(ctx, req, page.next_after));
  return out;
}

v1::ListPaymentsResponse ToResponse(const LedgerContext& ctx, const v1::ListPaymentsRequest& req,
                                    PaymentPage page) {
  v1::ListPaymentsResponse out;
  for (v1::Payment& payment : page.payments) *out.add_payments() = std::move(payment);
  out.set_next_page_token(EntryToken(ctx, req, page.next_after));
  return out;
}

v1::ListReceivablesResponse ToResponse(const LedgerContext& ctx,
                                       const v1::ListReceivablesRequest& req, ReceivablePage page) {
  v1::ListReceivablesResponse out;
  for (const Receivable& r : page.receivables) {
    *out.add_receivables() = ToReceivable(r, ctx.currency);
  }
  if (page.next_after.has_value()) {
    out.set_next_page_token(EncodePageToken(
        Binding(ctx, req), {absl::StrCat(page.next_after->key), page.next_after->customer_id}));
  }
  *out.mutable_total_balance() = Money(page.total_balance, ctx.currency);
  *out.mutable_total_overdue_amount() = Money(page.total_overdue_amount, ctx.currency);
  out.set_customer_count(page.customer_count);
  *out.mutable_as_of_date() = time::ToDate(page.as_of);
  return out;
}

v1::ListCreditLimitsResponse ToResponse(const LedgerContext& ctx,
                                        const v1::ListCreditLimitsRequest& req,
                                        CreditLimitPage page) {
  v1::ListCreditLimitsResponse out;
  for (v1::CreditLimit& limit : page.credit_limits) *out.add_credit_limits() = std::move(limit);
  if (page.next_after.has_value()) {
    const CreditLimitKey& next = *page.next_after;
    out.set_next_page_token(EncodePageToken(
        Binding(ctx, req), {absl::StrCat(next.key), next.subject_id, next.subject}));
  }
  return out;
}

}  // namespace kelola::ledger::api
