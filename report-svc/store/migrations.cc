#include "report-svc/store/migrations.h"

#include "libs/events/outbox.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report {

std::vector<db::Migration> Migrations() {
  return {
      // Positions in the ledger's and the directory's event streams.
      events::CursorMigration(1),
      // The summary card projection (R1).
      store::SummaryCardsMigration(2),
  };
}

}  // namespace kelola::report
