#include "libs/server/periodic_task.h"

#include "libs/threads/thread_name.h"

namespace kelola::server {

void PeriodicTask::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = threads::Start(name_, [this] { Loop(); });
}

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Loop() {
  while (true) {
    run_();
    absl::MutexLock lock(&mu_);
    const absl::Time until = absl::Now() + interval_;
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), until);
    if (stopping_) return;
  }
}

}  // namespace kelola::server
