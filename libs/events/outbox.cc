#include "libs/events/outbox.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"

namespace kelola::events {

namespace {

// The columns of an event other than its number, with the dialect's type of binary data.
std::string EventColumns(absl::string_view bytes_type) {
  return absl::StrCat(R"sql(
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  aggregate_version BIGINT NOT NULL,
  occur_time_micros BIGINT NOT NULL,
  payload )sql",
                      bytes_type, R"sql( NOT NULL,
  request_id TEXT NOT NULL,
  principal TEXT NOT NULL)sql");
}

}  // namespace

db::Migration OutboxMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event outbox";
  m.sqlite = absl::StrCat("\nCREATE TABLE events (\n  sequence BIGINT PRIMARY KEY,",
                          EventColumns("BLOB"), R"sql();
CREATE TABLE event_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL);
INSERT INTO event_sequence (id, value) VALUES (1, 0);
)sql");
  // event_sequence was the first schema's counter; sequence numbers now come from the
  // events themselves (Append). The table stays so that existing databases match.
  return m;
}

db::Migration OutboxStagingMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event outbox staging";
  // Ids grow in insertion order: within one transaction, the order of its appends. Only
  // the spelling of the key and of binary data differs between the dialects.
  m.sqlite = absl::StrCat("CREATE TABLE event_staging (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,",
                          EventColumns("BLOB"), ");\n");
  m.postgres = absl::StrCat("CREATE TABLE event_staging (\n  id BIGSERIAL PRIMARY KEY,",
                            EventColumns("BYTEA"), ");\n");
  return m;
}

db::Migration OutboxStagingByTypeMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event outbox staging by aggregate type";
  m.sqlite = "CREATE INDEX event_staging_by_type ON event_staging (aggregate_type, id);\n";
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

db::Migration CursorLeaseMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "event consumer leases";
  m.sqlite = R"sql(
ALTER TABLE consumer_cursors ADD COLUMN holder TEXT NOT NULL DEFAULT '';
ALTER TABLE consumer_cursors ADD COLUMN lease_until_us BIGINT NOT NULL DEFAULT 0;
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

void EventNotifier::Staged() {
  absl::MutexLock lock(&mu_);
  ++staged_;
}

int64_t EventNotifier::WaitForStaged(int64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, seen]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return shut_down_ || staged_ > seen; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return staged_;
}

void EventNotifier::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

bool EventNotifier::shut_down() const {
  absl::MutexLock lock(&mu_);
  return shut_down_;
}

absl::Status Outbox::Append(db::Transaction& tx, const NewEvent& event) const {
  return AppendMany(tx, absl::MakeConstSpan(&event, 1));
}

absl::Status Outbox::AppendMany(db::Transaction& tx, absl::Span<const NewEvent> events) const {
  if (events.empty()) return absl::OkStatus();
  const bool sqlite = tx.dialect() != db::Dialect::kPostgres;
  int64_t last = 0;
  if (sqlite) {
    // SQLite's single writer makes writers of events take turns until they commit: the
    // write transaction (BEGIN IMMEDIATE) holds the lock from this read to the commit. A
    // read and an insert rather than one INSERT … RETURNING, which builds a temporary table
    // per statement (about a third of an append's time in an import's profile).
    auto head = ReadHeadSequence(tx);
    if (!head.ok()) return head.status();
    last = *head;
  }
  const int64_t micros = absl::ToUnixMicros(clock_.Now());
  std::vector<db::Value> values;
  values.reserve(events.size() * (sqlite ? 10 : 9));
  for (const NewEvent& event : events) {
    if (event.payload == nullptr) return absl::InvalidArgumentError("event without payload");
    if (sqlite) values.emplace_back(++last);
    values.insert(values.end(), {event.tenant_id, event.payload->GetDescriptor()->full_name(),
                                 event.aggregate_type, event.aggregate_id, event.aggregate_version,
                                 micros, db::Bytes{event.payload->SerializeAsString()},
                                 event.request_id, event.principal});
  }
  // PostgreSQL: no number and no lock here; the sequencer numbers the events after the
  // commit.
  const absl::string_view columns =
      "tenant_id, type, aggregate_type, aggregate_id, aggregate_version, occur_time_micros, "
      "payload, request_id, principal)";
  const std::string head = sqlite ? absl::StrCat("INSERT INTO events (sequence, ", columns)
                                  : absl::StrCat("INSERT INTO event_staging (", columns);
  if (auto s = db::InsertRows(tx, head, sqlite ? 10 : 9, std::move(values)); !s.ok()) return s;
  EventNotifier* notifier = notifier_;
  if (notifier == nullptr) return absl::OkStatus();
  if (sqlite) {
    tx.AfterCommit([notifier, last] { notifier->Published(last); });
  } else {
    tx.AfterCommit([notifier] { notifier->Staged(); });
  }
  return absl::OkStatus();
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

absl::StatusOr<OutboxPosition> ReadOutboxPosition(db::Transaction& tx,
                                                  std::string_view aggregate_type) {
  OutboxPosition position;
  if (tx.dialect() != db::Dialect::kPostgres) {
    auto head = ReadHeadSequence(tx);
    if (!head.ok()) return head.status();
    position.head = *head;
    return position;
  }
  // The head row first (its first column 1), then the staged aggregates.
  auto rows = tx.Query(
      "SELECT 1, COALESCE(MAX(sequence), 0), '', '' FROM events UNION ALL "
      "SELECT 0, 0, tenant_id, aggregate_id FROM event_staging WHERE aggregate_type = ?",
      {std::string(aggregate_type)});
  if (!rows.ok()) return rows.status();
  for (const db::Row& row : *rows) {
    if (row.GetInt(0) == 1) {
      position.head = row.GetInt(1);
    } else {
      position.staged.push_back({row.GetText(2), row.GetText(3)});
    }
  }
  return position;
}

}  // namespace kelola::events
