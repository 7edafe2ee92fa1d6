#pragma once

// One hiredis connection: the logic shared by RedisClient (one connection behind a mutex)
// and RedisPool (many). Not thread-safe: the owner serializes calls. It connects lazily and
// drops the connection after any I/O error or timeout, because the reply stream is then out
// of step with the requests; the next call reconnects. Timeouts bound every call, so a dead
// or stopped Redis slows a caller by at most connect_timeout + command_timeout.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

struct redisContext;

namespace kelola::cache {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int database = 0;
  absl::Duration connect_timeout = absl::Milliseconds(200);
  absl::Duration command_timeout = absl::Milliseconds(200);
};

// One reply, reduced to what callers need.
struct RedisReply {
  // kError appears only inside pipelines and arrays; a single command's error reply is a
  // FAILED_PRECONDITION status instead.
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError } type = Type::kNil;
  std::string text;  // string, status and error replies
  long long integer = 0;
  std::vector<RedisReply> elements;
};

// One command's arguments (binary safe).
using RedisArgs = absl::Span<const absl::string_view>;

class RedisConnection {
 public:
  explicit RedisConnection(RedisOptions options) : options_(std::move(options)) {}
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command. Redis error replies are FAILED_PRECONDITION with Redis's message
  // ("redis: NOSCRIPT ..."); connection problems and timeouts are UNAVAILABLE.
  absl::StatusOr<RedisReply> Command(RedisArgs args);

  // Sends every command in one write and reads every reply: one round trip. Error replies
  // come back as kError elements, in order; UNAVAILABLE when the connection fails (then no
  // reply is trustworthy and `replies` is cleared).
  absl::Status Pipeline(absl::Span<const RedisArgs> commands, std::vector<RedisReply>* replies);

  bool connected() const { return context_ != nullptr; }
  // Closes the connection; the next call opens a new one.
  void Disconnect();

 private:
  absl::Status Connect();
  // Frees the context and returns UNAVAILABLE with its error.
  absl::Status Drop();

  RedisOptions options_;
  redisContext* context_ = nullptr;
};

}  // namespace kelola::cache
