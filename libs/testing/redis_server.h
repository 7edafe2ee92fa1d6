#pragma once

// A throwaway Redis server for tests, on a free loopback port, without persistence.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {

struct RedisServerOptions {
  // Program name or path.
  std::string binary = "redis-server";
  absl::Duration start_timeout = absl::Seconds(10);
  // Extra arguments, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
};

class RedisServer {
 public:
  // Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no --dir TMP`
  // and waits until it answers PING. FAILED_PRECONDITION when redis-server is not
  // installed (install the Debian package `redis-server`).
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // redis://127.0.0.1:PORT
  std::string url() const;

  // Sends PING on a fresh connection; OK when the answer is +PONG.
  absl::Status Ping(absl::Duration timeout = absl::Seconds(2)) const;
  // Sends one inline command (e.g. "FLUSHALL") and returns the first reply line.
  absl::StatusOr<std::string> Command(absl::string_view command,
                                      absl::Duration timeout = absl::Seconds(2)) const;

  // Fault injection. Stop: SIGTERM and wait. Kill: SIGKILL. Restart: (stop if running
  // and) start again on the same port, empty. Pause/Resume: SIGSTOP/SIGCONT, so
  // clients hang instead of failing fast.
  absl::Status Stop();
  absl::Status Kill();
  absl::Status Restart();
  absl::Status Pause();
  absl::Status Resume();
  bool IsRunning();

  std::string LogTail(size_t max_bytes = 4096) const;

 private:
  RedisServer() = default;
  absl::Status Launch();

  RedisServerOptions options_;
  std::string binary_;
  std::unique_ptr<TempDir> dir_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace kelola::testing
