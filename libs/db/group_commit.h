#pragma once

// Group commit: concurrent writers share one database transaction, and so one durable
// commit (one fsync on SQLite, one WAL flush on PostgreSQL), instead of paying for one
// each. Every submitted function runs inside its own SAVEPOINT of the shared
// transaction, so a function that fails is rolled back alone and its caller gets its
// error; the others commit. No caller is answered before the commit of its batch has
// returned, so an acknowledged write is as durable as with InTransaction.
//
// One batch is in flight at a time, run by a writer thread of the committer's own: while it
// commits, new submissions queue up and form the next batch, which the thread takes as soon
// as the commit returns. Under load batches grow by themselves; a lone caller pays two
// thread wake-ups. (Callers used to take turns leading batches; the next leader then had
// to be woken and scheduled between batches, 0.6 ms of every 6 ms cycle on two busy
// cores: docs/decisions/ledger-write-path.md.)

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/db/database.h"

namespace kelola::db {

struct GroupCommitOptions {
  int max_batch = 128;  // functions per shared transaction

  // INVALID_ARGUMENT when a batch could hold no function.
  absl::Status Validate() const;
};

// Whether writers should share commits, from a service's --group_commit setting: "on" /
// "true", "off" / "false", or "auto": on for SQLite (one writer commits one transaction at a
// time, so sharing the commit is what lets writes overlap), off for PostgreSQL (writes run
// as concurrent transactions, and the server groups their WAL flushes itself; one shared
// transaction would make one connection do every write's round trips in turn).
// INVALID_ARGUMENT for any other value.
absl::StatusOr<bool> GroupCommitWanted(absl::string_view setting, Dialect dialect);

class GroupCommitter final : public TransactionRunner {
 public:
  explicit GroupCommitter(Database& db, GroupCommitOptions options = {});
  // Waits for the batch in flight; callers must have returned from Run.
  ~GroupCommitter() override;
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `fn` in a shared transaction and returns once that transaction committed (OK or
  // fn's own error) or failed. The same rules as Database::InTransaction apply: fn may be
  // run more than once (a batch that hits a retryable conflict is run again as a whole),
  // so it keeps side effects to AfterCommit callbacks, which run only for functions whose
  // savepoint was kept, after the commit. fn and its callbacks run on the writer thread,
  // not the caller's; fn must not call Run itself (it would wait for its own thread).
  absl::Status Run(const TransactionFn& fn) override;

  // Batches committed so far, and functions in them. For metrics and benchmarks.
  int64_t batches() const;
  int64_t functions() const;

 private:
  struct Request {
    const TransactionFn* fn = nullptr;
    absl::Status status;
    bool done = false;
  };
  // The writer thread: takes what queued up, runs it, answers it.
  void WriteLoop();
  // Runs one batch in one transaction; fills each request's status.
  void RunBatch(std::vector<Request*>& batch);

  Database& db_;
  GroupCommitOptions options_;
  mutable absl::Mutex mu_;
  std::deque<Request*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t functions_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread writer_;  // last: starts once the members above exist
};

}  // namespace kelola::db
