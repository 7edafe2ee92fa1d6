#pragma once

// Copies a SQLite database's write-ahead log back into the database file on a thread of
// its own, instead of in the transaction whose commit made the log long.
//
// SQLite's automatic checkpoint runs inside the committing call, on the writer's thread:
// in a service that writes through one writer (group commit), every write waits while it
// copies thousands of pages and syncs the file. Measured on ledger-svc's sales (SQLite, 64
// clients): without those checkpoints in the write path, about 7 % more sales/s and half
// the p99 (docs/benchmarks.md, "ledger-svc against the targets").
//
// How: the writer connection's commit hook (sqlite3_wal_hook, which replaces the automatic
// checkpoint) wakes this thread once the log holds `threshold_pages`; the thread runs a
// PASSIVE checkpoint on its own connection, which copies what no reader still needs and
// never blocks the writer. With synchronous=FULL it syncs the log before copying and the
// file after, so durability is SQLite's own. The next write transaction after a complete
// checkpoint starts the log again from its beginning.
//
// Backstop: a commit that finds the log at 4 × threshold_pages (the thread cannot keep
// up, or a long reader pins old pages) checkpoints inline, as SQLite itself would have.

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

class SqliteCheckpointer {
 public:
  // Opens the checkpointing connection to the database file at `path` (already in WAL
  // mode) and starts the thread. `synchronous` is the PRAGMA synchronous value.
  static absl::StatusOr<std::unique_ptr<SqliteCheckpointer>> Start(const std::string& path,
                                                                   int threshold_pages,
                                                                   const std::string& synchronous,
                                                                   absl::Duration busy_timeout);
  ~SqliteCheckpointer();  // stops and joins the thread (a running checkpoint finishes)
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Hands `writer`'s checkpoints to this object. `writer` must be closed before this
  // object is destroyed.
  void Attach(sqlite3* writer);

  // Checkpoints run by the thread, and inline by the backstop. For tests and metrics.
  int64_t background_checkpoints() const;
  int64_t inline_checkpoints() const;

 private:
  SqliteCheckpointer(sqlite3* db, int threshold_pages);
  static int OnCommit(void* self, sqlite3* writer, const char* schema, int pages);
  void Loop();

  sqlite3* const db_;  // the thread's own connection
  const int threshold_pages_;
  mutable absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t background_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t inline_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace kelola::db
