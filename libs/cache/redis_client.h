#pragma once

// A small, thread-safe Redis client over hiredis: one connection guarded by a mutex,
// reconnected on the next call after any error. Timeouts bound every call, so a dead
// Redis slows a caller by at most `command_timeout` and never hangs it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisContext;

namespace kelola::cache {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int database = 0;
  absl::Duration connect_timeout = absl::Milliseconds(200);
  absl::Duration command_timeout = absl::Milliseconds(200);
};

// Parses "redis://HOST:PORT[/DB]". INVALID_ARGUMENT on anything else.
absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url);

// One reply, reduced to what callers need.
struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus } type = Type::kNil;
  std::string text;  // string and status replies
  long long integer = 0;
  std::vector<RedisReply> elements;
};

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options) : options_(std::move(options)) {}
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command given as separate arguments (binary safe). Redis error replies are
  // FAILED_PRECONDITION with Redis's message; connection problems are UNAVAILABLE.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);
  // PING -> OK when Redis answers PONG.
  absl::Status Ping();

 private:
  absl::Status ConnectLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RedisOptions options_;
  absl::Mutex mu_;
  redisContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace kelola::cache
