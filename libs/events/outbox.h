#pragma once

// The outbox: a service records its events inside the same database transaction as the
// change they describe. Sequence numbers are global per producing service, start at 1,
// have no gaps and follow commit order, so no reader can ever see sequence N+1 before N.
//
// SQLite: Append inserts into `events` with the highest number so far plus one; the
// database's single writer already makes writers take turns until they commit.
// PostgreSQL: Append inserts into `event_staging` without a number and without any lock
// (a global lock held by every writer until its commit capped a service's writes near
// 500/s); an OutboxSequencer (outbox_sequencer.h) moves committed staged events into
// `events` and numbers them, shortly after each commit. See
// docs/decisions/event-outbox-sequencer.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::events {

// Tables of the outbox (`events`, `event_sequence`) as one migration of the producer.
db::Migration OutboxMigration(int version);
// The staging table of the outbox (`event_staging`: the columns of `events` without the
// sequence, keyed by an increasing id), a later migration of the producer. Used on
// PostgreSQL only; created on SQLite too so that both schemas match.
db::Migration OutboxStagingMigration(int version);
// An index of the staging table by aggregate type, for producers that read their staged
// aggregates (ReadOutboxPosition) on every read: the read then costs the staged rows, not
// the table's pages. A burst of writes (an import) leaves those pages behind, empty, until
// the sequencer's vacuum gives them back once writers pause, and only if no transaction
// holds the table then (every such read does).
db::Migration OutboxStagingByTypeMigration(int version);
// The table of consumer positions (`consumer_cursors`) as one migration of the consumer.
db::Migration CursorMigration(int version);
// The lease of the active replica of each consumer (event_consumer.h), on the same table:
// a later migration of the consumer.
db::Migration CursorLeaseMigration(int version);

// Wakes stream watchers when events are numbered, and the sequencer when events are
// staged. Events written by another replica of the same service are found by the
// watchers' (and the sequencer's) periodic poll instead.
class EventNotifier {
 public:
  // Called after a commit that made events up to `sequence` visible in `events`.
  void Published(int64_t sequence);
  // Returns true as soon as an event newer than `after` is published, false on timeout or
  // shutdown.
  bool WaitForNewerThan(int64_t after, absl::Duration timeout);
  // Called after a commit that staged events (PostgreSQL), to wake the sequencer.
  void Staged();
  // Waits until Staged() has been called more than `seen` times in all, `timeout` passes
  // or the notifier shuts down; returns how many times it has been called (the `seen` of
  // the next wait, so that a call made between two waits is not missed).
  int64_t WaitForStaged(int64_t seen, absl::Duration timeout);
  // Ends every wait; later waits return at once.
  void Shutdown();
  bool shut_down() const;

 private:
  mutable absl::Mutex mu_;
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t staged_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// What a producer says about one change.
struct NewEvent {
  std::string tenant_id;
  std::string aggregate_type;  // e.g. "customer"
  std::string aggregate_id;
  int64_t aggregate_version = 0;  // per-aggregate counter (a customer's ledger version)
  const google::protobuf::Message* payload = nullptr;  // typed event; its full name is the type
  std::string request_id;
  std::string principal;
};

class Outbox {
 public:
  Outbox(const Clock& clock, EventNotifier* notifier) : clock_(clock), notifier_(notifier) {}

  // Appends the event in `tx`. SQLite: numbered at once, watchers are woken after commit.
  // PostgreSQL: staged (sent pipelined, without waiting for the database), the sequencer
  // is woken after commit and numbers it. Callers that need the event's sequence read it
  // from the stream.
  absl::Status Append(db::Transaction& tx, const NewEvent& event) const;
  // Appends `events` in `tx` in that order, as Append does each, with multi-row inserts.
  absl::Status AppendMany(db::Transaction& tx, absl::Span<const NewEvent> events) const;

 private:
  const Clock& clock_;
  EventNotifier* notifier_;
};

// Reads committed events with sequence > `after`, oldest first, at most `limit`.
absl::StatusOr<std::vector<type::v1::Event>> ReadEvents(db::Transaction& tx, int64_t after,
                                                        int limit);
// The sequence of the newest committed event (all tenants and types); 0 when none.
absl::StatusOr<int64_t> ReadHeadSequence(db::Transaction& tx);

// Where the outbox stands for a reader that follows one aggregate type: the newest
// committed event's sequence and, on PostgreSQL, the aggregates of that type whose events
// are committed but not numbered yet (staged), read in one statement, so in one snapshot: an
// event the sequencer numbers meanwhile is in exactly one of the two.
struct StagedAggregate {
  std::string tenant_id;
  std::string aggregate_id;
};
struct OutboxPosition {
  int64_t head = 0;
  std::vector<StagedAggregate> staged;  // empty on SQLite (numbered at commit)
};
absl::StatusOr<OutboxPosition> ReadOutboxPosition(db::Transaction& tx,
                                                  std::string_view aggregate_type);

}  // namespace kelola::events
