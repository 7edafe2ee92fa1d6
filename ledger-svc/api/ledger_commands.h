#pragma once

// Requests of kelola.ledger.v1.LedgerService as the app layer's commands. The requests
// are validated first (ledger_service.cc); amounts are taken in minor units, their
// currency having been checked against the tenant's.

#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/app/apply_credit.h"
#include "ledger-svc/app/record_payment.h"
#include "ledger-svc/app/sale_records.h"

namespace kelola::ledger::api {

RecordSaleCommand ToCommand(const v1::RecordSaleRequest& req);
RecordPaymentCommand ToCommand(const v1::RecordPaymentRequest& req);
ApplyCreditCommand ToCommand(const v1::ApplyCreditRequest& req);

}  // namespace kelola::ledger::api
