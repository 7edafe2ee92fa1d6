#include "libs/events/outbox.h"

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"

namespace kelola::events {

db::Migration OutboxMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event outbox";
  m.sqlite = R"sql(
CREATE TABLE events (
  sequence BIGINT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  aggregate_version BIGINT NOT NULL,
  occur_time_micros BIGINT NOT NULL,
  payload BLOB NOT NULL,
  request_id TEXT NOT NULL,
  principal TEXT NOT NULL);
CREATE TABLE event_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL);
INSERT INTO event_sequence (id, value) VALUES (1, 0);
)sql";
  // event_sequence was the first schema's counter; sequence numbers now come from the
  // events themselves (Append). The table stays so that existing databases match.
  return m;
}

db::Migration CursorMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event consumer cursors";
  m.sqlite = R"sql(
CREATE TABLE consumer_cursors (
  consumer TEXT NOT NULL,
  producer TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  PRIMARY KEY (consumer, producer));
)sql";
  return m;
}

void EventNotifier::Published(int64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (sequence > head_) head_ = sequence;
}

bool EventNotifier::WaitForNewerThan(int64_t after, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, after]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shut_down_ || head_ > after; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return !shut_down_ && head_ > after;
}

void EventNotifier::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

bool EventNotifier::shut_down() const {
  absl::MutexLock lock(&mu_);
  return shut_down_;
}

absl::StatusOr<int64_t> Outbox::Append(db::Transaction& tx, const NewEvent& event) const {
  if (event.payload == nullptr) return absl::InvalidArgumentError("event without payload");
  if (tx.dialect() == db::Dialect::kPostgres) {
    // Writers of events take turns from their first event until they commit (SQLite's
    // single writer does this by itself). Taking the lock again in the same transaction
    // costs nothing, unlike an update of a counter row, whose versions a long transaction
    // (an import batch) would pile up and walk through on every event.
    absl::Status locked = tx.ExecuteDeferred("SELECT pg_advisory_xact_lock(?)", {kSequenceLock});
    if (!locked.ok()) return locked;
  }
  auto inserted = tx.QueryOne(
      "INSERT INTO events (sequence, tenant_id, type, aggregate_type, aggregate_id, "
      "aggregate_version, occur_time_micros, payload, request_id, principal) "
      "SELECT COALESCE(MAX(sequence), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM events "
      "RETURNING sequence",
      {event.tenant_id, event.payload->GetDescriptor()->full_name(), event.aggregate_type,
       event.aggregate_id, event.aggregate_version, absl::ToUnixMicros(clock_.Now()),
       db::Bytes{event.payload->SerializeAsString()}, event.request_id, event.principal});
  if (!inserted.ok()) return inserted.status();
  const int64_t sequence = inserted->GetInt(0);
  if (notifier_ != nullptr) {
    EventNotifier* notifier = notifier_;
    tx.AfterCommit([notifier, sequence] { notifier->Published(sequence); });
  }
  return sequence;
}

absl::StatusOr<std::vector<type::v1::Event>> ReadEvents(db::Transaction& tx, int64_t after,
                                                        int limit) {
  auto rows = tx.Query(
      "SELECT sequence, tenant_id, type, aggregate_type, aggregate_id, aggregate_version, "
      "occur_time_micros, payload, request_id, principal FROM events WHERE sequence > ? "
      "ORDER BY sequence LIMIT ?",
      {after, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<type::v1::Event> out;
  out.reserve(rows->size());
  for (const db::Row& row : *rows) {
    type::v1::Event& event = out.emplace_back();
    event.set_sequence(row.GetInt(0));
    event.set_tenant_id(row.GetText(1));
    event.set_type(row.GetText(2));
    event.set_aggregate_type(row.GetText(3));
    event.set_aggregate_id(row.GetText(4));
    event.set_aggregate_version(row.GetInt(5));
    *event.mutable_occur_time() = time::TimestampFromUnixMicros(row.GetInt(6));
    event.mutable_payload()->set_type_url(absl::StrCat("type.googleapis.com/", event.type()));
    event.mutable_payload()->set_value(row.GetBytes(7));
    event.set_request_id(row.GetText(8));
    event.set_principal(row.GetText(9));
  }
  return out;
}

absl::StatusOr<int64_t> ReadHeadSequence(db::Transaction& tx) {
  auto row = tx.QueryOne("SELECT COALESCE(MAX(sequence), 0) FROM events");
  if (!row.ok()) return row.status();
  return row->GetInt(0);
}

}  // namespace kelola::events
