#pragma once

// Child processes for tests: servers (PostgreSQL, Redis, our own binaries) and tools.

#include <sys/types.h>

#include <csignal>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kelola::testing {

struct ProcessOptions {
  // argv[0] is the program: a path, or a name looked up in $PATH.
  std::vector<std::string> argv;
  // Added to (or overriding) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  // stdout and stderr are appended to this file; empty = /dev/null. stdin is /dev/null.
  std::string log_path;
  // Working directory of the child; empty = the parent's.
  std::string working_dir;
  // When non-empty and the parent runs as root, the child drops to this user (its
  // primary group, supplementary groups, HOME and USER) before exec.
  std::string run_as_user;
  // The child gets SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG), so a crashed
  // test leaves no servers behind. The signal fires when the *thread* that started the
  // child exits, so start long-lived children from the main thread (or a gtest
  // Environment), not from short-lived worker threads.
  bool die_with_parent = true;
  // How long the destructor waits after SIGTERM before SIGKILL of the whole group: longer
  // than the services' default --shutdown_grace (10 s), so that a graceful stop that uses
  // its whole grace is not reported as a kill.
  absl::Duration stop_timeout = absl::Seconds(15);
};

// How a child ended.
struct ExitStatus {
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when a signal ended it
  bool exited() const { return signal == 0 && exit_code >= 0; }
  bool success() const { return exit_code == 0 && signal == 0; }
};

// A running child in its own process group (so that Kill of the group reaches the
// processes it started). Not thread-safe; use from one thread.
class Process {
 public:
  // Starts the child. Fails if the program cannot be found or executed.
  static absl::StatusOr<std::unique_ptr<Process>> Start(ProcessOptions options);

  // Stops a running child: SIGTERM, then after stop_timeout SIGKILL to its group.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const ProcessOptions& options() const { return options_; }

  // Sends `signal` to the child. FAILED_PRECONDITION once it has been reaped.
  absl::Status Kill(int signal);
  // Sends `signal` to every process of the child's group.
  absl::Status KillGroup(int signal);
  // Waits up to `timeout` for the child to end; DEADLINE_EXCEEDED if it is still running.
  // Once it has ended, returns the same status on every call.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);
  // Reaps the child if it has ended; true while it runs.
  bool IsRunning();
  // SIGTERM (or `signal`), wait up to stop_timeout, then SIGKILL to the group.
  ExitStatus Stop(int signal = SIGTERM);

  // The last `max_bytes` of the log file (empty without one).
  std::string LogTail(size_t max_bytes = 4096) const;

 private:
  Process(ProcessOptions options, pid_t pid) : options_(std::move(options)), pid_(pid) {}
  bool Reap(bool block);

  ProcessOptions options_;
  pid_t pid_;
  bool reaped_ = false;
  ExitStatus exit_;
};

// The last `max_bytes` of a file (empty if it cannot be read).
std::string ReadFileTail(const std::string& path, size_t max_bytes = 4096);

// Looks `name` up in $PATH (names with a '/' are returned as they are). Empty if absent.
std::string FindExecutable(const std::string& name);

// Runs a program to completion (up to `timeout`, then SIGKILL) and returns how it ended.
absl::StatusOr<ExitStatus> RunToCompletion(ProcessOptions options, absl::Duration timeout);

}  // namespace kelola::testing
