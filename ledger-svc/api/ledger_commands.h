#pragma once

// Requests of kelola.ledger.v1.LedgerService as the app layer's commands. The requests
// are validated first (ledger_service.cc); amounts are taken in minor units, their
// currency having been checked against the tenant's.

#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/app/apply_credit.h"
#include "ledger-svc/app/credit_limits.h"
#include "ledger-svc/app/record_payment.h"
#include "ledger-svc/app/refund_sale.h"
#include "ledger-svc/app/sale_records.h"
#include "ledger-svc/app/void_entry.h"

namespace kelola::ledger::api {

RecordSaleCommand ToCommand(const v1::RecordSaleRequest& req);
RecordPaymentCommand ToCommand(const v1::RecordPaymentRequest& req);
ApplyCreditCommand ToCommand(const v1::ApplyCreditRequest& req);
VoidSaleCommand ToCommand(const v1::VoidSaleRequest& req);
VoidPaymentCommand ToCommand(const v1::VoidPaymentRequest& req);
RefundSaleCommand ToCommand(const v1::RefundSaleRequest& req);
SetCreditLimitCommand ToCommand(const v1::SetCreditLimitRequest& req);
DeleteCreditLimitCommand ToCommand(const v1::DeleteCreditLimitRequest& req);

}  // namespace kelola::ledger::api
