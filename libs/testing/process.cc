#include "libs/testing/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace kelola::testing {
namespace {

// Everything the child needs, prepared before fork so that the child only makes
// async-signal-safe calls.
struct ChildPlan {
  std::string program;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  bool drop_privileges = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

absl::Status LookUpUser(const std::string& user, ChildPlan* plan,
                        std::vector<std::pair<std::string, std::string>>* env) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* result = nullptr;
  const int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &result);
  if (rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("user \"", user, "\" does not exist"));
  }
  plan->drop_privileges = true;
  plan->uid = pw.pw_uid;
  plan->gid = pw.pw_gid;
  int ngroups = 64;
  plan->groups.resize(ngroups);
  if (getgrouplist(user.c_str(), pw.pw_gid, plan->groups.data(), &ngroups) < 0) {
    plan->groups.resize(ngroups);
    getgrouplist(user.c_str(), pw.pw_gid, plan->groups.data(), &ngroups);
  }
  plan->groups.resize(std::max(ngroups, 0));
  env->emplace_back("HOME", pw.pw_dir);
  env->emplace_back("USER", pw.pw_name);
  env->emplace_back("LOGNAME", pw.pw_name);
  return absl::OkStatus();
}

void WriteErrnoAndExit(int fd, int err) {
  ssize_t ignored = write(fd, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

ExitStatus Decode(int status) {
  ExitStatus out;
  if (WIFEXITED(status)) {
    out.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

}  // namespace

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  const std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(dirs, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string ReadFileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                                   ? size - static_cast<std::streamoff>(max_bytes)
                                   : 0;
  in.seekg(start);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(ProcessOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Process: empty argv");
  ChildPlan plan;
  plan.program = FindExecutable(options.argv[0]);
  if (plan.program.empty() || access(plan.program.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("Process: program \"", options.argv[0], "\" not found or not executable"));
  }

  std::vector<std::pair<std::string, std::string>> env = options.env;
  if (!options.run_as_user.empty() && geteuid() == 0) {
    // Extra env given by the caller wins over HOME/USER of the target user.
    std::vector<std::pair<std::string, std::string>> user_env;
    if (absl::Status s = LookUpUser(options.run_as_user, &plan, &user_env); !s.ok()) return s;
    env.insert(env.begin(), user_env.begin(), user_env.end());
  }

  plan.argv_storage = options.argv;
  for (std::string& a : plan.argv_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);

  // Later entries override earlier ones: collect overrides from the end.
  absl::flat_hash_set<std::string> overridden;
  std::vector<std::string> extra;
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (overridden.insert(it->first).second)
      extra.push_back(absl::StrCat(it->first, "=", it->second));
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (!overridden.contains(key)) plan.env_storage.push_back(entry);
  }
  plan.env_storage.insert(plan.env_storage.end(), extra.begin(), extra.end());
  for (std::string& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);

  const std::string log = options.log_path.empty() ? "/dev/null" : options.log_path;
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("Process: cannot open log ", log, ": ", strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_pipe[2];
  if (null_fd < 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::InternalError(absl::StrCat("Process: ", strerror(err)));
  }
  const char* cwd = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(log_fd);
    close(null_fd);
    close(err_pipe[0]);
    close(err_pipe[1]);
    return absl::InternalError(absl::StrCat("Process: fork: ", strerror(err)));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    setpgid(0, 0);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) {
      WriteErrnoAndExit(err_pipe[1], errno);
    }
    if (cwd != nullptr && chdir(cwd) != 0) WriteErrnoAndExit(err_pipe[1], errno);
    if (plan.drop_privileges) {
      if (setgroups(plan.groups.size(), plan.groups.data()) != 0 || setgid(plan.gid) != 0 ||
          setuid(plan.uid) != 0) {
        WriteErrnoAndExit(err_pipe[1], errno);
      }
    }
    // After setuid: changing credentials clears the parent-death signal.
    if (options.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
    }
    execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
    WriteErrnoAndExit(err_pipe[1], errno);
  }

  // Parent.
  setpgid(pid, pid);  // Also done in the child; whichever runs first wins the race.
  close(log_fd);
  close(null_fd);
  close(err_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(err_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(err_pipe[0]);
  if (n > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    return absl::FailedPreconditionError(
        absl::StrCat("Process: cannot start ", plan.program, ": ", strerror(child_errno)));
  }
  return std::unique_ptr<Process>(new Process(std::move(options), pid));
}

Process::~Process() {
  if (!reaped_) Stop();
}

bool Process::Reap(bool block) {
  if (reaped_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_ = Decode(status);
    reaped_ = true;
  } else if (r < 0) {
    reaped_ = true;  // ECHILD: someone else reaped it; the status is unknown.
  }
  return reaped_;
}

absl::Status Process::Kill(int signal) {
  if (reaped_) return absl::FailedPreconditionError("Process: already exited");
  if (kill(pid_, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill(", pid_, "): ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status Process::KillGroup(int signal) {
  if (kill(-pid_, signal) != 0) {
    if (errno == ESRCH) return absl::FailedPreconditionError("Process: group has no processes");
    return absl::InternalError(absl::StrCat("kill(-", pid_, "): ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (!Reap(false)) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("Process ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
  return exit_;
}

bool Process::IsRunning() { return !Reap(false); }

ExitStatus Process::Stop(int signal) {
  if (!reaped_) {
    kill(pid_, signal);
    kill(pid_, SIGCONT);  // A stopped child would not act on the signal.
    if (!Wait(options_.stop_timeout).ok()) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      Reap(true);
    }
  }
  kill(-pid_, SIGKILL);  // Stragglers the child left in its group.
  return exit_;
}

std::string Process::LogTail(size_t max_bytes) const {
  if (options_.log_path.empty()) return "";
  return ReadFileTail(options_.log_path, max_bytes);
}

absl::StatusOr<ExitStatus> RunToCompletion(ProcessOptions options, absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(std::move(options));
  if (!p.ok()) return p.status();
  absl::StatusOr<ExitStatus> exit = (*p)->Wait(timeout);
  if (!exit.ok()) {
    (*p)->KillGroup(SIGKILL).IgnoreError();
    (*p)->Wait(absl::Seconds(10)).IgnoreError();
    return absl::DeadlineExceededError(
        absl::StrCat((*p)->options().argv[0], " did not finish within ",
                     absl::FormatDuration(timeout), "; log tail:\n", (*p)->LogTail(2048)));
  }
  return exit;
}

}  // namespace kelola::testing
