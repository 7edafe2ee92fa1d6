#include "ledger-svc/store/migrations.h"

#include "libs/events/outbox.h"

namespace kelola::ledger {

std::vector<db::Migration> Migrations() {
  return {
      events::OutboxMigration(1),
  };
}

}  // namespace kelola::ledger
