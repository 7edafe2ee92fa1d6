#pragma once

// The List requests of kelola.ledger.v1.LedgerService as the store's queries, and the
// store's pages as their responses (store/list_queries.h).
//
// A request is checked in the order its errors are reported: page_size (0 → 50, above
// 200 → 200, negative INVALID_ARGUMENT), filter (list_filters.h: INVALID_FILTER),
// order_by (INVALID_ORDER_BY), page_token (PAGE_TOKEN_INVALID, PAGE_TOKEN_MISMATCH). A
// page token carries the sort key of a page's last row and is bound to the tenant, the
// RPC, every listing parameter and (except ListCreditLimits) the principal's store limit,
// so that it is refused for other parameters or another store limit.

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_store.h"
#include "ledger-svc/store/list_queries.h"

namespace kelola::ledger::api {

// `ctx`: the tenant (page token binding), its time zone (filter dates) and store limit.
absl::StatusOr<SaleListQuery> ToQuery(const LedgerContext& ctx, const v1::ListSalesRequest& req);
absl::StatusOr<PaymentListQuery> ToQuery(const LedgerContext& ctx,
                                         const v1::ListPaymentsRequest& req);
absl::StatusOr<ReceivableListQuery> ToQuery(const LedgerContext& ctx,
                                            const v1::ListReceivablesRequest& req);
absl::StatusOr<CreditLimitListQuery> ToQuery(const LedgerContext& ctx,
                                             const v1::ListCreditLimitsRequest& req);

// A page as the response to `req`, with a next_page_token when more follow. Amounts in
// `ctx`'s currency.
v1::ListSalesResponse ToResponse(const LedgerContext& ctx, const v1::ListSalesRequest& req,
                                 SalePage page);
v1::ListPaymentsResponse ToResponse(const LedgerContext& ctx, const v1::ListPaymentsRequest& req,
                                    PaymentPage page);
v1::ListReceivablesResponse ToResponse(const LedgerContext& ctx,
                                       const v1::ListReceivablesRequest& req, ReceivablePage page);
v1::ListCreditLimitsResponse ToResponse(const LedgerContext& ctx,
                                        const v1::ListCreditLimitsRequest& req,
                                        CreditLimitPage page);

}  // namespace kelola::ledger::api
