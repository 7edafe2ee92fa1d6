#pragma once

// The ledger's write use cases, each over the same LedgerWriter, clock and ids, and
// LedgerCore: the writer, the store (reads) and the use cases over one database, as main
// and the tests build them.

#include "ledger-svc/app/apply_credit.h"
#include "ledger-svc/app/credit_limits.h"
#include "ledger-svc/app/customer_protocols.h"
#include "ledger-svc/app/record_payment.h"
#include "ledger-svc/app/record_sale.h"
#include "ledger-svc/app/refund_sale.h"
#include "ledger-svc/app/void_entry.h"
#include "ledger-svc/store/ledger_store.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"
#include "libs/ids/ids.h"

namespace kelola::ledger {

struct LedgerApp {
  LedgerApp(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : record_sale(writer, clock, ids),
        record_payment(writer, clock, ids),
        apply_credit(writer, clock, ids),
        void_sale(writer, clock, ids),
        void_payment(writer, clock, ids),
        refund_sale(writer, clock, ids),
        credit_limits(writer, clock),
        customer_protocols(writer, clock) {}

  RecordSale record_sale;
  RecordPayment record_payment;
  ApplyCredit apply_credit;
  VoidSale void_sale;
  VoidPayment void_payment;
  RefundSale refund_sale;
  CreditLimits credit_limits;
  CustomerProtocols customer_protocols;
};

struct LedgerCore {
  // Writes go through `runner` (e.g. a db::GroupCommitter over `db`); nullptr = one
  // transaction per write on `db`.
  LedgerCore(db::Database& db, const Clock& clock, ids::IdGenerator& ids,
             events::EventNotifier* notifier, db::TransactionRunner* runner)
      : writer(db, clock, notifier, runner), store(db, clock), app(writer, clock, ids) {}

  LedgerWriter writer;
  LedgerStore store;
  LedgerApp app;
};

}  // namespace kelola::ledger
