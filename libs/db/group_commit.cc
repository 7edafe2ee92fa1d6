#include "libs/db/group_commit.h"

#include "absl/strings/str_cat.h"
#include "libs/threads/thread_name.h"

namespace kelola::db {

absl::StatusOr<bool> GroupCommitWanted(absl::string_view setting, Dialect dialect) {
  if (setting == "auto") return dialect == Dialect::kSqlite;
  if (setting == "on" || setting == "true") return true;
  if (setting == "off" || setting == "false") return false;
  return absl::InvalidArgumentError("must be on, off or auto");
}

namespace {

// What one function sees of the shared transaction: statements go through, and its
// AfterCommit callbacks are kept apart so that they can be dropped with its savepoint.
class SavepointTransaction final : public Transaction {
 public:
  explicit SavepointTransaction(Transaction& shared) : shared_(shared) {}

  absl::StatusOr<Rows> Query(absl::string_view sql, const std::vector<Value>& params) override {
    return shared_.Query(sql, params);
  }
  absl::StatusOr<int64_t> Execute(absl::string_view sql,
                                  const std::vector<Value>& params) override {
    return shared_.Execute(sql, params);
  }
  absl::Status ExecuteDeferred(absl::string_view sql, const std::vector<Value>& params) override {
    return shared_.ExecuteDeferred(sql, params);
  }
  absl::Status Sync() override { return shared_.Sync(); }
  absl::Status ExecuteScript(absl::string_view sql) override { return shared_.ExecuteScript(sql); }
  Dialect dialect() const override { return shared_.dialect(); }

 private:
  Transaction& shared_;
};

}  // namespace

absl::Status GroupCommitOptions::Validate() const {
  if (max_batch < 1) return absl::InvalidArgumentError("must be 1 or more");
  return absl::OkStatus();
}

GroupCommitter::GroupCommitter(Database& db, GroupCommitOptions options)
    : db_(db),
      options_(options),
      writer_(threads::Start("group-commit", [this] { WriteLoop(); })) {}

GroupCommitter::~GroupCommitter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

absl::Status GroupCommitter::Run(const TransactionFn& fn) {
  Request request;
  request.fn = &fn;
  absl::MutexLock lock(&mu_);
  queue_.push_back(&request);
  mu_.Await(absl::Condition(&request.done));
  return request.status;
}

void GroupCommitter::WriteLoop() {
  std::vector<Request*> batch;
  while (true) {
    batch.clear();
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nobody waits
      // Everything that queued while the previous batch ran, oldest first.
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    absl::MutexLock lock(&mu_);
    ++batches_;
    functions_ += static_cast<int64_t>(batch.size());
    for (Request* r : batch) r->done = true;
  }
}

void GroupCommitter::RunBatch(std::vector<Request*>& batch) {
  std::vector<std::vector<std::function<void()>>> callbacks(batch.size());
  absl::Status committed = db_.InTransaction([&](Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < batch.size(); ++i) {
      callbacks[i].clear();
      const std::string savepoint = absl::StrCat("gc", i);
      if (absl::Status s = tx.Execute(absl::StrCat("SAVEPOINT ", savepoint)).status(); !s.ok()) {
        return s;
      }
      SavepointTransaction scoped(tx);
      absl::Status status = (*batch[i]->fn)(scoped);
      // The function's deferred statements belong to its savepoint: their errors are its.
      absl::Status deferred = tx.Sync();
      if (status.ok()) status = deferred;
      if (IsConflict(deferred)) return deferred;  // the whole batch runs again
      if (status.ok()) {
        if (absl::Status s = tx.Execute(absl::StrCat("RELEASE SAVEPOINT ", savepoint)).status();
            !s.ok()) {
          return s;
        }
        callbacks[i] = scoped.TakeAfterCommit();
      } else {
        if (IsConflict(status)) return status;  // the whole batch runs again
        if (absl::Status s = tx.Execute(absl::StrCat("ROLLBACK TO SAVEPOINT ", savepoint)).status();
            !s.ok()) {
          return s;
        }
        if (absl::Status s = tx.Execute(absl::StrCat("RELEASE SAVEPOINT ", savepoint)).status();
            !s.ok()) {
          return s;
        }
      }
      batch[i]->status = status;
    }
    return absl::OkStatus();
  });
  if (!committed.ok()) {
    for (Request* r : batch) r->status = committed;
    return;
  }
  for (auto& list : callbacks) {
    for (auto& callback : list) callback();
  }
}

int64_t GroupCommitter::batches() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

int64_t GroupCommitter::functions() const {
  absl::MutexLock lock(&mu_);
  return functions_;
}

}  // namespace kelola::db
