#pragma once

// The stats feed (C12/C13 data): customer-svc follows ledger-svc's event stream and keeps
// its customer_stats projection equal to the ledger's own per-customer stats. Every
// per-customer ledger event carries the customer's stats after the change and its ledger
// version; the projection takes them only when the version is newer, so replays and
// out-of-order deliveries never move it backwards. Applied by an events::EventConsumer in
// batches: many events per transaction, which also moves the consumer's cursor.

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kelola/ledger/v1/balance.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::customer::store {

// The consumer name under which the cursor is stored.
inline constexpr char kLedgerStatsConsumer[] = "customer-svc.stats";
inline constexpr char kLedgerProducer[] = "ledger-svc";

// Applies one ledger event to the projection (events without customer stats are ignored).
// The projected balance is the ledger's balance minus its credit (CustomerStats.balance).
absl::Status ApplyLedgerEvent(db::Transaction& tx, const type::v1::Event& event);

// Applies a batch of ledger events (in sequence order) in one transaction, with the same
// result as applying them one by one: only each customer's newest change is written.
absl::Status ApplyLedgerEvents(db::Transaction& tx, absl::Span<const type::v1::Event> events);

// A migration that has the feed replay ledger-svc's stream from its start, to rebuild
// projections written by an older rule (balances that ignored credit): it drops the feed's
// cursor and lowers every stats row's version by one, so that the replay of each customer's
// newest event rewrites its row while older events still do not apply. Rows keep their
// values until then; only their ledger_version reads one lower meanwhile.
db::Migration LedgerStatsReplayMigration(int version);

}  // namespace kelola::customer::store
