#pragma once

// CPU time used by processes over a measurement, to say where a call's cost goes when
// client, servers and Redis share the machine: sampled at the start and end of a window.

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace kelola::bench {

// Stands for every process of the machine where a pid is asked for: CpuSeconds gives the
// busy time of all cores (/proc/stat), so that a window can say what the processes it
// names left to the others (the database's backends, the kernel's threads).
inline constexpr pid_t kWholeMachine = -1;

// User + system CPU seconds a process has used so far (/proc/PID/stat); 0 when it is gone.
// For kWholeMachine, the seconds all cores spent neither idle nor waiting for I/O.
double CpuSeconds(pid_t pid);

struct ProcessCpu {
  std::string name;
  double seconds = 0;  // CPU used inside the window
};

// Samples `processes` at `from` and at `until` on a thread of its own, so that the caller
// can run the load meanwhile; Finish() joins it and returns the differences.
class CpuWindow {
 public:
  CpuWindow(std::vector<std::pair<std::string, pid_t>> processes, absl::Time from,
            absl::Time until);
  ~CpuWindow();
  std::vector<ProcessCpu> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kelola::bench
