#include "report-svc/store/migrations.h"

#include "libs/events/outbox.h"

namespace kelola::report {

std::vector<db::Migration> Migrations() {
  return {
      // Positions in the ledger's and the directory's event streams.
      events::CursorMigration(1),
  };
}

}  // namespace kelola::report
