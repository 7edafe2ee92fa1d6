#pragma once

// Copies a SQLite database's write-ahead log back into the database file on a thread of
// its own, instead of in the transaction whose commit made the log long.
//
// SQLite's automatic checkpoint runs inside the committing call, on the writer's thread:
// in a service that writes through one writer (group commit), every write waits while it
// copies thousands of pages and syncs the file. Measured on ledger-svc's sales (SQLite, 64
// clients): p99 35–48 ms → 20–29 ms, a few % more sales/s
// (docs/decisions/storage-driver-details.md).
//
// How: the writer connection's commit hook (sqlite3_wal_hook, which replaces the automatic
// checkpoint) wakes this thread once the log holds `threshold_pages` not yet checkpointed;
// the thread runs a PASSIVE checkpoint on its own connection, which copies what no reader
// still needs and never blocks the writer. Counting only pages not yet copied matters: a
// log that was copied in full stays long until the next write transaction starts it
// again, and waking on its length alone would checkpoint (and sync the file) after every
// commit. With synchronous=FULL it syncs the log before copying and the
// file after, so durability is SQLite's own.
//
// The log is reused from its beginning only by the first write transaction after a
// checkpoint that copied all of it. Under steady writes a checkpoint on another thread
// never does (commits add pages while it copies), so the log would grow for ever, and
// every commit would extend the file (an fsync that also writes the file's metadata:
// measured, half the single-insert rate). So the first commit after a background
// checkpoint copies the few pages committed during it, inline: the log is then copied in
// full and the next transaction starts it again. They are few because the thread first
// copies them itself, each further pass copying what was committed during the one before,
// while that is more than a thirty-second of the threshold (at most four more passes): a
// single pass left the writer 1,500–2,800 pages to copy, 7–8 ms of reads on its thread
// every third of a second, at the ledger's 64-client sales with a threshold of 10,000 pages
// (docs/decisions/storage-driver-details.md).
//
// Backstop: a commit that finds 4 × threshold_pages not yet copied (the thread cannot keep
// up, or a long reader pins old pages) checkpoints inline, as SQLite itself would have.
//
// Bulk writes (an import's batches, TransactionOptions::bulk_write) wake the thread at
// `bulk_threshold_pages` instead. Until the log is next started again, the backstop is 4 ×
// that for every commit: an ordinary commit after bulk ones wakes the thread rather than
// copying their whole log itself (it may still finish the thread's last pass, as above: what
// was committed during it). BulkWritesEnded() wakes the thread when a run of them ends. Each
// batch dirties index leaves all over the file, mostly the same ones as the batch before; a
// checkpoint copies a page once however many commits wrote it, so copying after more batches
// copies fewer pages a row, and the batches' commits share the disk with fewer copies. The log
// then grows to about bulk_threshold_pages before it is copied; the next ordinary commit past
// `threshold_pages` has it copied as usual (docs/decisions/storage-driver-details.md).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct sqlite3;

namespace kelola::db {

struct SqliteCheckpointerOptions {
  // Log pages not yet copied that wake the thread after a commit (above); at least 1.
  int threshold_pages = 10000;
  // For bulk commits; 0 (or below threshold_pages): bulk writes as any other.
  int bulk_threshold_pages = 0;
  std::string synchronous = "FULL";  // the checkpointing connection's PRAGMA synchronous
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteCheckpointer {
 public:
  // Opens the checkpointing connection to the database file at `path` (already in WAL
  // mode) and starts the thread.
  static absl::StatusOr<std::unique_ptr<SqliteCheckpointer>> Start(
      const std::string& path, const SqliteCheckpointerOptions& options);
  ~SqliteCheckpointer();  // stops and joins the thread (a running checkpoint finishes)
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Hands `writer`'s checkpoints to this object. `writer` must be closed before this
  // object is destroyed.
  void Attach(sqlite3* writer);

  // Whether the writer's commits from now on are those of a bulk write. Called by the
  // writer's thread around a bulk write's commit.
  void SetBulkCommits(bool bulk) { bulk_commits_.store(bulk, std::memory_order_relaxed); }

  // A run of bulk writes has ended: wakes the thread if the log holds the usual threshold
  // of pages not yet copied.
  void BulkWritesEnded();

  // Checkpoints the thread ran (not those that failed), and inline by the backstop; the
  // thread's further passes that copied what was committed while it copied. For tests
  // and metrics.
  int64_t background_checkpoints() const;
  int64_t inline_checkpoints() const;
  int64_t follow_up_checkpoints() const;

 private:
  SqliteCheckpointer(sqlite3* db, int threshold_pages, int bulk_threshold_pages);
  static int OnCommit(void* self, sqlite3* writer, const char* schema, int pages);
  // Runs a PASSIVE checkpoint on `db` and remembers how far the log is copied; false if it
  // could not run (busy behind another checkpoint, an I/O error).
  bool Checkpoint(sqlite3* db, const char* schema);
  // Has the thread run a checkpoint, unless one is running.
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);
  bool Stopping() const ABSL_LOCKS_EXCLUDED(mu_);
  void Loop();

  // The thread copies again what was committed during its pass while that is more than
  // threshold_pages / kFinishFraction, at most kMaxFollowUps times.
  static constexpr int kFinishFraction = 32;
  static constexpr int kMaxFollowUps = 4;

  sqlite3* const db_;  // the thread's own connection
  const int threshold_pages_;
  const int bulk_threshold_pages_;  // at least threshold_pages_
  std::atomic<bool> bulk_commits_{false};
  // A bulk commit wrote to the log since it was last started again (the backstop counts
  // from the bulk threshold). Only the writer's commits use it.
  std::atomic<bool> bulk_log_{false};
  // Pages of the current log copied into the file by the last checkpoint.
  std::atomic<int64_t> copied_{0};
  // Pages in the log after the last commit, and how many times the log was started again
  // (so that the thread can tell the log it copied from a new one).
  std::atomic<int64_t> log_pages_{0};
  std::atomic<int64_t> restarts_{0};
  mutable absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  // A background checkpoint finished on the log as it is; the next commit copies what it
  // left.
  bool finish_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t background_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t inline_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t follow_ups_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace kelola::db
