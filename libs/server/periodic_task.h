#pragma once

// Runs a function on a background thread named `name` (libs/threads): once right after
// Start(), then every `interval`, until Stop() (which waits for a run in progress). For a
// service's housekeeping, e.g. resuming operations left unfinished by a crash.

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kelola::server {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, absl::Duration interval, std::function<void()> run)
      : name_(std::move(name)), interval_(interval), run_(std::move(run)) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  void Stop();

 private:
  void Loop();

  const std::string name_;
  const absl::Duration interval_;
  const std::function<void()> run_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kelola::server
