#pragma once

// The stats feed (C12/C13 data): customer-svc follows ledger-svc's event stream and keeps
// its customer_stats projection equal to the ledger's own per-customer stats. Every
// per-customer ledger event carries the customer's stats after the change and its ledger
// version; the projection takes them only when the version is newer, so replays and
// out-of-order deliveries never move it backwards. Applied by an events::EventConsumer in
// the same transaction as the consumer's cursor.

#include "absl/status/status.h"
#include "kelola/ledger/v1/balance.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

// The consumer name under which the cursor is stored.
inline constexpr char kLedgerStatsConsumer[] = "customer-svc.stats";
inline constexpr char kLedgerProducer[] = "ledger-svc";

// Applies one ledger event to the projection (events without customer stats are ignored).
absl::Status ApplyLedgerEvent(db::Transaction& tx, const type::v1::Event& event);

}  // namespace kelola::customer::store
