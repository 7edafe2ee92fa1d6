#pragma once

// The summary card projection (R1): one row per customer with the ledger's statistics of
// its newest applied ledger version; the sales and payments of each applied change go to
// the ledger facts (store/ledger_facts.h), whose open sales give the overdue figures. Fed by
// ledger-svc's event stream in batches: many events per transaction, the consumer cursor updated in
// the same transaction, so that after a crash nothing is lost or applied twice; the per-customer
// version guard of domain::ReduceCard makes replays (a dropped cursor, a rebuild) harmless too.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "report-svc/domain/summary_card.h"

namespace kelola::report::store {

// The consumer name under which the cursor is stored, and its producer.
inline constexpr char kCardConsumer[] = "report-svc.cards";
inline constexpr char kLedgerProducer[] = "ledger-svc";

// The tables of the projection (migration 2 also created card_open_sales, which migration
// 3 replaced by report_sales).
db::Migration SummaryCardsMigration(int version);

// Applies a batch of ledger events inside `tx` (events that change no card are ignored):
// decodes every payload once, reads the cards and sales the batch touches in a few
// statements, applies the events in order in memory and writes the results (deferred, so
// PostgreSQL pipelines them); records the newest event's occur_time as the time the
// reports are "as of" (ReadLedgerAsOf).
absl::Status ApplyLedgerBatch(db::Transaction& tx, absl::Span<const type::v1::Event> events);

// The occur_time of the newest ledger event applied; unset before any.
absl::StatusOr<std::optional<absl::Time>> ReadLedgerAsOf(db::Transaction& tx);

// Applies `events` (in stream order) in ONE transaction together with the cursor of
// (consumer, producer): events at or below the stored cursor are skipped, the cursor ends
// at the last event's sequence. Returns the cursor after the batch. On error nothing of the
// batch is applied.
absl::StatusOr<int64_t> ApplyBatch(db::Database& db, const std::string& consumer,
                                   const std::string& producer,
                                   const std::vector<type::v1::Event>& events);

// A stored card with its customer's open sales.
// A stored card, and the sequence of the ledger event that last wrote it (the fact index
// holds the card's sales once it has applied that event).
struct StoredCard {
  domain::CardRow row;
  int64_t change_no = 0;
};

// The stored cards of `customer_ids` of `tenant_id`, keyed by customer id (one indexed read
// per card); customers the projection does not know are absent.
absl::StatusOr<std::map<std::string, StoredCard>> ReadCards(
    db::Database& db, const std::string& tenant_id, const std::vector<std::string>& customer_ids);

}  // namespace kelola::report::store
