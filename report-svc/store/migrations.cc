#include "report-svc/store/migrations.h"

#include "libs/events/outbox.h"
#include "report-svc/store/customer_dimension.h"
#include "report-svc/store/ledger_facts.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report {

std::vector<db::Migration> Migrations() {
  return {
      // Positions in the ledger's and the directory's event streams.
      events::CursorMigration(1),
      // The summary card projection (R1).
      store::SummaryCardsMigration(2),
      // Sales, payments and outstanding changes for the tenant-wide reports (R2–R6).
      store::LedgerFactsMigration(3),
      // The customers as customer-svc reports them.
      store::CustomerDimensionMigration(4),
      // Which replica consumes each stream (event_consumer.h).
      events::CursorLeaseMigration(5),
  };
}

}  // namespace kelola::report
