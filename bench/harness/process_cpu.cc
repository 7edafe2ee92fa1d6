#include "bench/harness/process_cpu.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace kelola::bench {

namespace {

double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  std::getline(in, line);  // "cpu  user nice system idle iowait irq softirq steal ..."
  std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  int64_t busy = 0;
  for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
    int64_t ticks = 0;
    if (i == 4 || i == 5 || !absl::SimpleAtoi(fields[i], &ticks)) continue;  // idle, iowait
    busy += ticks;
  }
  return static_cast<double>(busy) / sysconf(_SC_CLK_TCK);
}

}  // namespace

double CpuSeconds(pid_t pid) {
  if (pid == kWholeMachine) return MachineBusySeconds();
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream content;
  content << in.rdbuf();
  const std::string stat = content.str();
  // Fields after the command name, which is in parentheses and may hold spaces.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipWhitespace());
  // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
  int64_t user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) ||
      !absl::SimpleAtoi(fields[12], &system)) {
    return 0;
  }
  return static_cast<double>(user + system) / sysconf(_SC_CLK_TCK);
}

struct CpuWindow::State {
  std::vector<std::pair<std::string, pid_t>> processes;
  std::vector<double> before, after;
  std::thread sampler;
};

CpuWindow::CpuWindow(std::vector<std::pair<std::string, pid_t>> processes, absl::Time from,
                     absl::Time until)
    : state_(new State{std::move(processes), {}, {}, {}}) {
  state_->sampler = std::thread([state = state_.get(), from, until] {
    absl::SleepFor(from - absl::Now());
    for (const auto& [name, pid] : state->processes) state->before.push_back(CpuSeconds(pid));
    absl::SleepFor(until - absl::Now());
    for (const auto& [name, pid] : state->processes) state->after.push_back(CpuSeconds(pid));
  });
}

CpuWindow::~CpuWindow() {
  if (state_->sampler.joinable()) state_->sampler.join();
}

std::vector<ProcessCpu> CpuWindow::Finish() {
  if (state_->sampler.joinable()) state_->sampler.join();
  std::vector<ProcessCpu> out;
  for (size_t i = 0; i < state_->processes.size() && i < state_->after.size(); ++i) {
    out.push_back({state_->processes[i].first, state_->after[i] - state_->before[i]});
  }
  return out;
}

}  // namespace kelola::bench
