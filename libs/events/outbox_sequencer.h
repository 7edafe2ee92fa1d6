#pragma once

// The sequencer of the outbox on PostgreSQL: numbers the events that writers staged
// (outbox.h) and moves them into `events`, shortly after their commits.
//
// Why the numbers stay gapless and in commit order:
// - Only sequencers number events, one at a time: each run takes a transaction advisory
//   lock (kSequencerLock), so the sequencers of several replicas take turns, and the next
//   run reads the highest number after the previous run committed.
// - A run moves a batch of staged rows and numbers them in ONE statement, so that the
//   rows it deletes from `event_staging` are exactly the rows it inserts into `events`
//   (one snapshot; a separate DELETE after the INSERT would also see rows committed in
//   between, and lose them). A run's numbers become visible together, at its commit.
// - Only committed rows are seen, and a writer's rows become visible atomically at its
//   commit: a rolled-back writer leaves nothing to number, so it leaves no gap.
// - Rows are numbered in id order. Within one transaction that is its append order.
//   Across transactions, writes of one aggregate are serialized by the aggregate's row
//   lock, taken before its events are appended: the later writer stages (and gets its
//   id) only after the earlier one committed, so a run that sees the later event also
//   sees the earlier one with a smaller id, and per-aggregate order holds. Events of
//   different aggregates are numbered in the order the sequencer finds them committed.
//
// Latency: a commit that staged events wakes this process's sequencer (EventNotifier::
// Staged), which numbers them in one short transaction and wakes stream watchers
// (EventNotifier::Published). Rows that a replica staged and could not number because
// its process died are numbered by any sequencer's next poll. The staging table's vacuums
// run on a thread of their own: one that gives pages back may wait up to five seconds for
// the table, and numbering goes on meanwhile.
//
// SQLite numbers events as they are appended; there Start() does nothing and RunOnce()
// finds nothing to do.

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"

namespace kelola::events {

// The PostgreSQL advisory lock of sequencers (the ASCII bytes of "kelolaob"; writers of
// events used to take it).
inline constexpr int64_t kSequencerLock = 0x6b656c6f6c616f62;

struct SequencerOptions {
  // How often staged rows are looked for without a wake: rows committed by a process that
  // died before numbering them. A live replica numbers its own.
  absl::Duration poll_interval = absl::Seconds(1);
  // Most events numbered in one transaction; a full batch is followed at once by another.
  int batch_limit = 10000;
  // Waits after a failed run: doubling from the first to at most poll_interval.
  absl::Duration min_backoff = absl::Milliseconds(10);
  // How long a run waits, once woken by a commit, for more commits to number with it.
  absl::Duration gather = absl::Milliseconds(1);
  // The rows a run deletes from `event_staging` stay in the table until a vacuum, and every
  // read of the table (the next runs, customer-svc's search catch-ups) reads them again;
  // autovacuum comes by once a minute at best. The sequencer vacuums the table itself after
  // this many numbered rows (without giving pages back: writers are busy), and when a run
  // finds nothing new after some were numbered or after a vacuum that kept its pages
  // (giving empty pages back). 0: never.
  int64_t vacuum_after_rows = 5000;
};

class OutboxSequencer {
 public:
  // `notifier` may be null (then only the poll finds staged rows, and nobody is woken).
  OutboxSequencer(db::Database& db, EventNotifier* notifier, SequencerOptions options = {})
      : db_(db), notifier_(notifier), options_(options) {}
  ~OutboxSequencer() { Stop(); }
  OutboxSequencer(const OutboxSequencer&) = delete;
  OutboxSequencer& operator=(const OutboxSequencer&) = delete;

  // Starts the background threads (PostgreSQL only). Stop() waits for a run and a vacuum in
  // progress.
  void Start();
  void Stop();

  // Numbers every event staged and committed so far (in batches), then wakes watchers.
  // Returns how many were numbered. Safe to call from several threads and processes.
  absl::StatusOr<int64_t> RunOnce();

 private:
  struct Batch {
    int64_t count = 0;
    int64_t last_sequence = 0;
  };
  // One transaction: at most batch_limit staged rows numbered and moved.
  absl::StatusOr<Batch> NumberBatch();
  void Loop();
  // Asks for a vacuum of the staging table when vacuum_after_rows says so; `quiet`: the
  // background thread's last run found nothing to number.
  void MaybeVacuum(bool quiet);
  // The vacuum thread: runs what MaybeVacuum asked for, one vacuum at a time. Not the
  // numbering thread: a vacuum that gives pages back needs the table alone for a moment,
  // and PostgreSQL keeps trying for up to five seconds while readers hold the table.
  void VacuumLoop();
  bool VacuumAskedOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(vacuum_mu_) {
    return vacuum_asked_ || vacuum_stopping_;
  }
  // Waits for a staged commit or the poll interval; returns the `seen` of the next wait.
  int64_t WaitForWork(int64_t seen);

  db::Database& db_;
  EventNotifier* const notifier_;
  const SequencerOptions options_;
  absl::Notification stop_;
  std::thread thread_;
  std::atomic<int64_t> unvacuumed_{0};  // rows numbered (by any thread) since the last vacuum
  // The last vacuum asked for did not give empty pages back (the background thread's
  // alone); at start, a previous process may have left some.
  bool pages_left_ = true;
  std::thread vacuum_thread_;
  absl::Mutex vacuum_mu_;
  bool vacuum_asked_ ABSL_GUARDED_BY(vacuum_mu_) = false;
  bool vacuum_truncate_ ABSL_GUARDED_BY(vacuum_mu_) = false;  // of the vacuum asked for
  bool vacuum_stopping_ ABSL_GUARDED_BY(vacuum_mu_) = false;
};

}  // namespace kelola::events
