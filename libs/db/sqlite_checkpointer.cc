#include "libs/db/sqlite_checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/threads/thread_name.h"

namespace kelola::db {

absl::StatusOr<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Start(
    const std::string& path, const SqliteCheckpointerOptions& options) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr); rc != SQLITE_OK) {
    absl::Status failed = absl::UnavailableError(
        absl::StrCat("sqlite: cannot open \"", path, "\" for checkpoints: ", sqlite3_errstr(rc)));
    sqlite3_close_v2(db);
    return failed;
  }
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  const std::string pragma =
      absl::StrCat("PRAGMA synchronous=", absl::AsciiStrToUpper(options.synchronous));
  if (const int rc = sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    absl::Status failed = absl::InternalError(
        absl::StrCat("sqlite: cannot set up the checkpoint connection: ", sqlite3_errmsg(db)));
    sqlite3_close_v2(db);
    return failed;
  }
  auto checkpointer = std::unique_ptr<SqliteCheckpointer>(
      new SqliteCheckpointer(db, options.threshold_pages, options.bulk_threshold_pages));
  checkpointer->thread_ =
      threads::Start("sqlite-ckpt", [self = checkpointer.get()] { self->Loop(); });
  return checkpointer;
}

SqliteCheckpointer::SqliteCheckpointer(sqlite3* db, int threshold_pages, int bulk_threshold_pages)
    : db_(db),
      threshold_pages_(std::max(threshold_pages, 1)),
      bulk_threshold_pages_(std::max(bulk_threshold_pages, threshold_pages_)) {}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

void SqliteCheckpointer::Attach(sqlite3* writer) { sqlite3_wal_hook(writer, &OnCommit, this); }

int64_t SqliteCheckpointer::background_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return background_;
}

int64_t SqliteCheckpointer::inline_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return inline_;
}

int64_t SqliteCheckpointer::follow_up_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return follow_ups_;
}

// Runs on the writer's thread after each commit, SQLite's write lock already released.
int SqliteCheckpointer::OnCommit(void* self, sqlite3* writer, const char* schema, int pages) {
  auto* checkpointer = static_cast<SqliteCheckpointer*>(self);
  checkpointer->log_pages_.store(pages);
  int64_t copied = checkpointer->copied_.load();
  if (pages < copied) {  // the log was started again from its beginning
    copied = 0;
    checkpointer->copied_.store(0);
    checkpointer->restarts_.fetch_add(1);
    checkpointer->bulk_log_.store(false, std::memory_order_relaxed);
  }
  const bool bulk = checkpointer->bulk_commits_.load(std::memory_order_relaxed);
  if (bulk) checkpointer->bulk_log_.store(true, std::memory_order_relaxed);
  const int64_t pending = pages - copied;
  bool finish = false;
  {
    absl::MutexLock lock(&checkpointer->mu_);
    finish = std::exchange(checkpointer->finish_, false) && pending > 0;
  }
  if (finish) {  // the pages committed while the thread copied: few, and then the log restarts
    checkpointer->Checkpoint(writer, schema);
    return SQLITE_OK;
  }
  const int64_t threshold =
      bulk ? checkpointer->bulk_threshold_pages_ : checkpointer->threshold_pages_;
  if (pending < threshold) return SQLITE_OK;
  // An ordinary commit that follows bulk ones finds their long log, which is the thread's
  // to copy: the backstop counts from the bulk threshold until the log starts again.
  const int64_t backstop = checkpointer->bulk_log_.load(std::memory_order_relaxed)
                               ? checkpointer->bulk_threshold_pages_
                               : checkpointer->threshold_pages_;
  if (pending >= 4 * backstop) {
    // What SQLite's automatic checkpoint does. Busy (another checkpoint running) is no
    // error for the commit, which has taken place.
    checkpointer->Checkpoint(writer, schema);
    absl::MutexLock lock(&checkpointer->mu_);
    ++checkpointer->inline_;
    return SQLITE_OK;
  }
  checkpointer->Wake();
  return SQLITE_OK;
}

void SqliteCheckpointer::BulkWritesEnded() {
  if (log_pages_.load() - copied_.load() >= threshold_pages_) Wake();
}

void SqliteCheckpointer::Wake() {
  absl::MutexLock lock(&mu_);
  if (!running_) wanted_ = true;
}

bool SqliteCheckpointer::Checkpoint(sqlite3* db, const char* schema) {
  int log = 0;
  int copied = 0;
  // Errors (busy behind another checkpoint, an I/O error) leave the pages in the log,
  // where they are safe; a later commit asks again.
  if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) !=
          SQLITE_OK ||
      copied < 0) {
    return false;
  }
  copied_.store(copied);
  return true;
}

bool SqliteCheckpointer::Stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void SqliteCheckpointer::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return wanted_ || stopping_; };
      mu_.Await(absl::Condition(&woken));
      if (stopping_) return;
      wanted_ = false;
      running_ = true;
    }
    const int64_t restarts = restarts_.load();
    const bool first = Checkpoint(db_, "main");
    // What was committed while it copied, copied again here while that is more than a small
    // part of the threshold, so that the writer's finishing copy is small. Each pass copies
    // what was committed during the one before, usually less. A pass that failed (busy behind
    // the backstop's copy) or copied nothing new (a reader holds the log), a log started
    // again, or stopping ends them.
    int follow_ups = 0;
    bool copying = first;
    while (copying && follow_ups < kMaxFollowUps && restarts_.load() == restarts &&
           log_pages_.load() - copied_.load() > threshold_pages_ / kFinishFraction && !Stopping()) {
      const int64_t before = copied_.load();
      copying = Checkpoint(db_, "main") && copied_.load() > before;
      if (copying) ++follow_ups;
    }
    absl::MutexLock lock(&mu_);
    running_ = false;
    // The writer finishes only what a pass that ran left of the same log. A log started
    // again was copied in full: its new pages wait for the next wake. After a failed pass,
    // commits past the threshold wake the thread again.
    finish_ = first && restarts_.load() == restarts;
    if (first) ++background_;
    follow_ups_ += follow_ups;
  }
}

}  // namespace kelola::db
