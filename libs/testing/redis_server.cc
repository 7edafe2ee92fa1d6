#include "libs/testing/redis_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/testing/free_port.h"

namespace kelola::testing {
namespace {

constexpr char kPackageHint[] =
    "redis-server is not installed; install the Debian package `redis-server` "
    "(apt-get install redis-server)";

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  auto server = std::unique_ptr<RedisServer>(new RedisServer());
  server->binary_ = FindExecutable(options.binary);
  if (server->binary_.empty() || access(server->binary_.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(kPackageHint);
  }
  server->options_ = std::move(options);
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kelola-redis");
  if (!dir.ok()) return dir.status();
  server->dir_ = *std::move(dir);

  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    absl::StatusOr<int> port = PickFreePort();
    if (!port.ok()) return port.status();
    server->port_ = *port;
    status = server->Launch();
    if (status.ok()) return server;
  }
  return status;
}

absl::Status RedisServer::Launch() {
  ProcessOptions run;
  run.argv = {
      binary_, "--port", absl::StrCat(port_), "--bind",      host_, "--save", "", "--appendonly",
      "no",    "--dir",  dir_->path(),        "--daemonize", "no"};
  run.argv.insert(run.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  run.log_path = dir_->Join("redis.log");
  run.stop_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(std::move(run));
  if (!process.ok()) return process.status();
  process_ = *std::move(process);

  const absl::Time deadline = absl::Now() + options_.start_timeout;
  while (absl::Now() < deadline) {
    if (Ping(absl::Milliseconds(500)).ok()) return absl::OkStatus();
    if (!process_->IsRunning()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::string tail = LogTail(2000);
  process_->Stop(SIGKILL);
  process_.reset();
  return absl::UnavailableError(
      absl::StrCat("redis-server did not answer PING on port ", port_, "; log tail:\n", tail));
}

RedisServer::~RedisServer() {
  if (process_ != nullptr) process_->Stop(SIGTERM);
  process_.reset();
  dir_.reset();
}

std::string RedisServer::url() const { return absl::StrCat("redis://", host_, ":", port_); }

absl::StatusOr<std::string> RedisServer::Command(absl::string_view command,
                                                 absl::Duration timeout) const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  const timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect ", host_, ":", port_, ": ", strerror(err)));
  }
  const std::string request = absl::StrCat(command, "\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("send to redis: ", strerror(err)));
  }
  std::string reply;
  char buf[512];
  while (reply.find("\r\n") == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      const int err = n < 0 ? errno : ECONNRESET;
      close(fd);
      return absl::UnavailableError(absl::StrCat("no reply from redis: ", strerror(err)));
    }
    reply.append(buf, n);
  }
  close(fd);
  return reply.substr(0, reply.find("\r\n"));
}

absl::Status RedisServer::Ping(absl::Duration timeout) const {
  absl::StatusOr<std::string> reply = Command("PING", timeout);
  if (!reply.ok()) return reply.status();
  if (*reply != "+PONG") {
    return absl::UnavailableError(absl::StrCat("redis answered PING with ", *reply));
  }
  return absl::OkStatus();
}

absl::Status RedisServer::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Stop(SIGTERM);
  process_.reset();
  return absl::OkStatus();
}

absl::Status RedisServer::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  process_->Stop(SIGKILL);
  process_.reset();
  return absl::OkStatus();
}

absl::Status RedisServer::Restart() {
  if (absl::Status s = Stop(); !s.ok()) return s;
  return Launch();
}

absl::Status RedisServer::Pause() {
  if (process_ == nullptr) return absl::FailedPreconditionError("redis-server is not running");
  return process_->Kill(SIGSTOP);
}

absl::Status RedisServer::Resume() {
  if (process_ == nullptr) return absl::FailedPreconditionError("redis-server is not running");
  return process_->Kill(SIGCONT);
}

bool RedisServer::IsRunning() { return process_ != nullptr && process_->IsRunning(); }

std::string RedisServer::LogTail(size_t max_bytes) const {
  return ReadFileTail(dir_->Join("redis.log"), max_bytes);
}

}  // namespace kelola::testing
