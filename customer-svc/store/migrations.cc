#include "customer-svc/store/migrations.h"

#include "libs/events/outbox.h"

namespace kelola::customer {

std::vector<db::Migration> Migrations() {
  return {
      events::OutboxMigration(1),
      // Position in ledger-svc's event stream, for the per-customer stats projection.
      events::CursorMigration(2),
  };
}

}  // namespace kelola::customer
