#pragma once

// A small, thread-safe Redis client: one RedisConnection guarded by a mutex, reconnected on
// the next call after any error. Timeouts bound every call, so a dead Redis slows a caller
// by at most `command_timeout` and never hangs it. Hot paths with many concurrent callers
// use RedisPool (redis_pool.h) instead, which does not queue them behind one mutex.

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/cache/redis_connection.h"

namespace kelola::cache {

// Parses "redis://HOST:PORT[/DB]". INVALID_ARGUMENT on anything else.
absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url);

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options) : connection_(std::move(options)) {}
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command given as separate arguments (binary safe). Redis error replies are
  // FAILED_PRECONDITION with Redis's message; connection problems are UNAVAILABLE.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);
  // PING -> OK when Redis answers PONG.
  absl::Status Ping();

 private:
  absl::Mutex mu_;
  RedisConnection connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::cache
