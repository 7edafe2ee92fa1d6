#include "libs/events/outbox_sequencer.h"

#include <algorithm>

#include "libs/log/log.h"
#include "libs/threads/thread_name.h"

namespace kelola::events {
namespace {

// One snapshot for the delete and the insert (see the header): the rows moved are the
// rows numbered, in id order, after the highest number so far. The ids to move are found
// through the primary key (the ANY(ARRAY(...)) form): a staging table under constant
// insert and delete holds many dead rows between vacuums, and a sequential scan of it on
// every run cost a fifth of PostgreSQL's CPU under load.
constexpr char kNumberStaged[] = R"sql(
WITH moved AS (
  DELETE FROM event_staging
  WHERE id = ANY(ARRAY(SELECT id FROM event_staging ORDER BY id LIMIT ?))
  RETURNING id, tenant_id, type, aggregate_type, aggregate_id, aggregate_version,
            occur_time_micros, payload, request_id, principal),
head AS (SELECT COALESCE(MAX(sequence), 0) AS s FROM events),
ins AS (
  INSERT INTO events (sequence, tenant_id, type, aggregate_type, aggregate_id,
                      aggregate_version, occur_time_micros, payload, request_id, principal)
  SELECT head.s + row_number() OVER (ORDER BY moved.id), moved.tenant_id, moved.type,
         moved.aggregate_type, moved.aggregate_id, moved.aggregate_version,
         moved.occur_time_micros, moved.payload, moved.request_id, moved.principal
  FROM moved, head
  RETURNING sequence)
SELECT COUNT(*), COALESCE(MAX(sequence), 0) FROM ins
)sql";

}  // namespace

void OutboxSequencer::Start() {
  if (db_.dialect() != db::Dialect::kPostgres || thread_.joinable()) return;
  thread_ = threads::Start("outbox-seq", [this] { Loop(); });
  // With vacuums off (vacuum_after_rows 0) nothing would ever be asked of the thread.
  if (options_.vacuum_after_rows > 0) {
    vacuum_thread_ = threads::Start("outbox-vacuum", [this] { VacuumLoop(); });
  }
}

void OutboxSequencer::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  // Wakes the thread if it waits for a staged commit; it sees stop_ and ends.
  if (notifier_ != nullptr) notifier_->Staged();
  thread_.join();
  {
    // A vacuum asked for and not begun is left (the next start vacuums); one in progress is
    // waited for.
    absl::MutexLock lock(&vacuum_mu_);
    vacuum_stopping_ = true;
  }
  if (vacuum_thread_.joinable()) vacuum_thread_.join();
  // Writes that committed while the thread was ending: numbered now rather than at the next
  // start (or by another replica's poll).
  if (auto last = RunOnce(); !last.ok()) {
    log::Warn("outbox sequencer: last run at stop failed; rows stay staged",
              {{"error", last.status().ToString()}});
  }
}

absl::StatusOr<int64_t> OutboxSequencer::RunOnce() {
  if (db_.dialect() != db::Dialect::kPostgres) return 0;
  int64_t total = 0;
  while (true) {
    auto batch = NumberBatch();
    if (!batch.ok()) return batch.status();
    total += batch->count;
    unvacuumed_ += batch->count;
    if (batch->count > 0 && notifier_ != nullptr) notifier_->Published(batch->last_sequence);
    if (batch->count < options_.batch_limit) return total;
  }
}

absl::StatusOr<OutboxSequencer::Batch> OutboxSequencer::NumberBatch() {
  Batch batch;
  absl::Status status = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
    // Sequencers of all replicas take turns, until this transaction ends. The numbering
    // statement that follows takes its snapshot after the lock is granted, so it sees
    // the numbers of the previous holder.
    absl::Status locked = tx.ExecuteDeferred("SELECT pg_advisory_xact_lock(?)", {kSequencerLock});
    if (!locked.ok()) return locked;
    auto row = tx.QueryOne(kNumberStaged, {static_cast<int64_t>(options_.batch_limit)});
    if (!row.ok()) return row.status();
    batch = Batch{row->GetInt(0), row->GetInt(1)};
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return batch;
}

void OutboxSequencer::Loop() {
  int64_t seen = 0;
  absl::Duration backoff = absl::ZeroDuration();
  while (!stop_.HasBeenNotified()) {
    auto numbered = RunOnce();
    if (!numbered.ok()) {
      // The rows stay staged; the next run numbers them.
      backoff = std::min(std::max(backoff * 2, options_.min_backoff), options_.poll_interval);
      log::Warn(
          "outbox sequencer: numbering staged events failed",
          {{"error", numbered.status().ToString()}, {"retry_in", absl::FormatDuration(backoff)}});
      stop_.WaitForNotificationWithTimeout(backoff);
      continue;
    }
    backoff = absl::ZeroDuration();
    MaybeVacuum(/*quiet=*/*numbered == 0);
    const int64_t before = seen;
    seen = WaitForWork(seen);
    // Woken by a commit: commits landing meanwhile share the next run (one durable
    // commit of the sequencer per `gather` at most under load, instead of one per write).
    if (seen != before) stop_.WaitForNotificationWithTimeout(options_.gather);
  }
}

void OutboxSequencer::MaybeVacuum(bool quiet) {
  if (options_.vacuum_after_rows <= 0) return;
  const int64_t rows = unvacuumed_.load();
  // Once writers pause: the rows numbered since the last vacuum, or the empty pages a vacuum
  // without truncation left (also when it came right at the end of a burst, leaving no row
  // to count). A failure is not retried after every run: it waits for the next threshold,
  // or, for one that kept its pages, the next quiet run.
  const bool due = quiet ? (rows > 0 || pages_left_) : rows >= options_.vacuum_after_rows;
  if (!due) return;
  unvacuumed_ -= rows;
  pages_left_ = !quiet;
  // Asked while one runs: one more after it, giving pages back if either asked for that.
  absl::MutexLock lock(&vacuum_mu_);
  vacuum_asked_ = true;
  vacuum_truncate_ = vacuum_truncate_ || quiet;
}

void OutboxSequencer::VacuumLoop() {
  while (true) {
    bool truncate = false;
    {
      absl::MutexLock lock(&vacuum_mu_);
      vacuum_mu_.Await(absl::Condition(this, &OutboxSequencer::VacuumAskedOrStopping));
      if (vacuum_stopping_) return;
      truncate = vacuum_truncate_;
      vacuum_asked_ = false;
      vacuum_truncate_ = false;
    }
    if (absl::Status s = db_.Vacuum("event_staging", truncate); !s.ok()) {
      log::Warn("outbox sequencer: vacuum of the staging table failed", {{"error", s.ToString()}});
    }
  }
}

int64_t OutboxSequencer::WaitForWork(int64_t seen) {
  if (notifier_ == nullptr || notifier_->shut_down()) {
    stop_.WaitForNotificationWithTimeout(options_.poll_interval);
    return seen;
  }
  return notifier_->WaitForStaged(seen, options_.poll_interval);
}

}  // namespace kelola::events
