#include "libs/db/group_commit.h"

#include <algorithm>

#include "absl/base/macros.h"
#include "absl/strings/str_cat.h"

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

absl::Status GroupCommitter::Run(const TransactionFn& fn) {
  Request request;
  request.fn = &fn;
  std::vector<Request*> batch;
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(&request);
    // Wait until our request is done, or until we may lead a batch.
    auto can_proceed = [this, &request]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return request.done || !leader_active_;
    };
    mu_.Await(absl::Condition(&can_proceed));
    if (request.done) return request.status;
    leader_active_ = true;
    // The leader's own request always runs in the batch it leads: it is not done, so it
    // is still queued, and nothing may answer it (or keep a pointer to this frame) but
    // this call. The rest of the batch comes from the front of the queue, oldest first.
    auto own = std::find(queue_.begin(), queue_.end(), &request);
    ABSL_ASSERT(own != queue_.end());
    if (own != queue_.end()) queue_.erase(own);
    batch.push_back(&request);
    while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
  }
  RunBatch(batch);
  {
    absl::MutexLock lock(&mu_);
    ++batches_;
    functions_ += static_cast<int64_t>(batch.size());
    for (Request* r : batch) r->done = true;
    leader_active_ = false;
  }
  return request.status;
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
