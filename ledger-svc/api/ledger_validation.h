#pragma once

// Field-by-field checks of LedgerService's write requests, before a write runs: ids,
// lengths, amounts in the tenant's currency (CURRENCY_MISMATCH apart), times not too far
// in the future, the request's own sums (TOTAL_MISMATCH, AMOUNT_OVERFLOW). Pure: what
// needs the database or customer-svc is checked by the write or the handler.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_store.h"

namespace kelola::ledger::api {

// Client times are at most `future_tolerance` after `now`.
struct TimeRules {
  absl::Time now;
  absl::Duration future_tolerance;
};

// `ctx`: the tenant's currency and time zone (resolved for a write).
absl::Status ValidateSale(const v1::RecordSaleRequest& req, const LedgerContext& ctx,
                          const TimeRules& times);
absl::Status ValidatePayment(const v1::RecordPaymentRequest& req, const LedgerContext& ctx,
                             const TimeRules& times);
absl::Status ValidateApplyCredit(const v1::ApplyCreditRequest& req, const LedgerContext& ctx);
absl::Status ValidateVoidSale(const v1::VoidSaleRequest& req);
absl::Status ValidateVoidPayment(const v1::VoidPaymentRequest& req);
absl::Status ValidateRefund(const v1::RefundSaleRequest& req, const LedgerContext& ctx,
                            const TimeRules& times);
absl::Status ValidateSetCreditLimit(const v1::SetCreditLimitRequest& req, const LedgerContext& ctx);
absl::Status ValidateDeleteCreditLimit(const v1::DeleteCreditLimitRequest& req);

// RESOURCE_EXHAUSTED TOO_MANY_ITEMS: more than `max` of `field`.
absl::Status TooMany(absl::string_view field, int max);

}  // namespace kelola::ledger::api
