#pragma once

// Pieces shared by the SQLite and PostgreSQL drivers: the connection pool and the
// retry loop around one transaction attempt. Not for use outside libs/db.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/db/database.h"

namespace kelola::db::internal {

// The outcome of one attempt at running a transaction.
struct AttemptResult {
  AttemptResult(absl::Status status, bool retryable = false,  // NOLINT: implicit on purpose
                std::vector<std::function<void()>> after_commit = {})
      : status(std::move(status)), retryable(retryable), after_commit(std::move(after_commit)) {}

  absl::Status status;
  // The attempt failed on a conflict (SQLite BUSY/LOCKED, PostgreSQL 40001/40P01);
  // running the whole function again may succeed.
  bool retryable = false;
  // Callbacks registered by the committed attempt.
  std::vector<std::function<void()>> after_commit;
};

// Runs `attempt` until it succeeds, fails with a non-retryable error, or
// options.max_attempts attempts have failed on conflicts (then ABORTED). Sleeps a short
// jittered, growing backoff between attempts. Runs the after-commit callbacks of the
// successful attempt.
absl::Status RunWithRetries(const TransactionOptions& options,
                            absl::FunctionRef<AttemptResult()> attempt);

// Validates the options shared by every driver.
absl::Status ValidateOptions(const DatabaseOptions& options);

// Returns `url` with any password replaced by "***", for error messages.
std::string RedactUrl(absl::string_view url);

// Shortens SQL for error messages.
std::string SqlForMessage(absl::string_view sql);

// A fixed-size pool of connections, created lazily by `factory`. Thread-safe.
template <typename Conn>
class ConnectionPool {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<Conn>>()>;

  // A connection on loan; goes back to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Return(std::move(conn_), discard_);
    }

    Conn* get() const { return conn_.get(); }
    Conn* operator->() const { return conn_.get(); }
    Conn& operator*() const { return *conn_; }
    // Closes the connection instead of returning it; its slot becomes free.
    void Discard() { discard_ = true; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Conn> conn_;
    bool discard_ = false;
  };

  ConnectionPool(int max_size, Factory factory)
      : max_size_(max_size < 1 ? 1 : max_size), factory_(std::move(factory)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Adds an already open connection (counts towards the size).
  void Add(std::unique_ptr<Conn> conn) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++open_;
    idle_.push_back(std::move(conn));
  }

  // Waits up to `timeout` for an idle connection or a free slot; UNAVAILABLE when none.
  absl::StatusOr<Lease> Acquire(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_) {
    mu_.Lock();
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &ConnectionPool::CanAcquire), timeout)) {
      mu_.Unlock();
      return absl::UnavailableError(absl::StrCat("no free database connection within ",
                                                 absl::FormatDuration(timeout), " (pool size ",
                                                 max_size_, ")"));
    }
    if (!idle_.empty()) {
      std::unique_ptr<Conn> conn = std::move(idle_.back());
      idle_.pop_back();
      mu_.Unlock();
      return Lease(this, std::move(conn));
    }
    ++open_;  // Reserve the slot, then connect without holding the lock.
    mu_.Unlock();
    absl::StatusOr<std::unique_ptr<Conn>> conn = factory_();
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return conn.status();
    }
    return Lease(this, *std::move(conn));
  }

 private:
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !idle_.empty() || open_ < max_size_;
  }

  void Return(std::unique_ptr<Conn> conn, bool discard) ABSL_LOCKS_EXCLUDED(mu_) {
    if (discard) {
      conn.reset();  // Close outside the lock.
      absl::MutexLock lock(&mu_);
      --open_;
      return;
    }
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(conn));
  }

  const int max_size_;
  const Factory factory_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + on loan + being opened
};

}  // namespace kelola::db::internal
