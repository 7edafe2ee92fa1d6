#pragma once

// The outbox: a service appends its events to the `events` table inside the same
// database transaction as the change they describe. Sequence numbers are global per
// producing service, start at 1, have no gaps and follow commit order: an event's number
// is the highest so far plus one, and writers of events take turns from their first event
// until they commit (SQLite: the database's single writer; PostgreSQL: a transaction
// advisory lock), so no reader can ever see sequence N+1 before N.

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::events {

// Tables of the outbox (`events`, `event_sequence`) as one migration of the producer.
db::Migration OutboxMigration(int version);
// The table of consumer positions (`consumer_cursors`) as one migration of the consumer.
db::Migration CursorMigration(int version);

// Wakes stream watchers when events commit. Events written by another replica of the
// same service are found by the watchers' periodic poll instead.
class EventNotifier {
 public:
  // Called after a commit that appended events up to `sequence`.
  void Published(int64_t sequence);
  // Returns true as soon as an event newer than `after` is published, false on timeout or
  // shutdown.
  bool WaitForNewerThan(int64_t after, absl::Duration timeout);
  // Ends every wait; later waits return at once.
  void Shutdown();
  bool shut_down() const;

 private:
  mutable absl::Mutex mu_;
  int64_t head_ ABSL_GUARDED_BY(mu_) = 0;
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

  // Appends the event in `tx` and returns its sequence. Watchers are woken after commit.
  absl::StatusOr<int64_t> Append(db::Transaction& tx, const NewEvent& event) const;

 private:
  // The PostgreSQL advisory lock of event writers (the ASCII bytes of "kelolaob").
  static constexpr int64_t kSequenceLock = 0x6b656c6f6c616f62;

  const Clock& clock_;
  EventNotifier* notifier_;
};

// Reads committed events with sequence > `after`, oldest first, at most `limit`.
absl::StatusOr<std::vector<type::v1::Event>> ReadEvents(db::Transaction& tx, int64_t after,
                                                        int limit);
// The sequence of the newest committed event (all tenants and types); 0 when none.
absl::StatusOr<int64_t> ReadHeadSequence(db::Transaction& tx);

}  // namespace kelola::events
