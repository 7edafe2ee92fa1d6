#include "libs/cache/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

namespace kelola::cache {
namespace {

RedisReply Convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      out.type = reply->type == REDIS_REPLY_STRING   ? RedisReply::Type::kString
                 : reply->type == REDIS_REPLY_STATUS ? RedisReply::Type::kStatus
                                                     : RedisReply::Type::kError;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i) {
        out.elements.push_back(Convert(reply->element[i]));
      }
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

absl::Status RedisConnection::Connect() {
  if (context_ != nullptr) return absl::OkStatus();
  const timeval connect_timeout = absl::ToTimeval(options_.connect_timeout);
  redisContext* context =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, connect_timeout);
  if (context == nullptr || context->err != 0) {
    std::string error = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisFree(context);
    return absl::UnavailableError(
        absl::StrCat("redis ", options_.host, ":", options_.port, ": ", error));
  }
  redisSetTimeout(context, absl::ToTimeval(options_.command_timeout));
  context_ = context;
  if (options_.database != 0) {
    ReplyPtr reply(
        static_cast<redisReply*>(redisCommand(context_, "SELECT %d", options_.database)));
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
      redisFree(context_);
      context_ = nullptr;
      return absl::UnavailableError("redis: cannot select database");
    }
  }
  return absl::OkStatus();
}

void RedisConnection::Disconnect() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

absl::Status RedisConnection::Drop() {
  absl::Status status = absl::UnavailableError(absl::StrCat("redis: ", context_->errstr));
  redisFree(context_);
  context_ = nullptr;  // reconnect on the next call
  return status;
}

namespace {

// Queues one command in hiredis's output buffer; nothing is sent yet.
bool Append(redisContext* context, RedisArgs args) {
  absl::InlinedVector<const char*, 8> argv;
  absl::InlinedVector<size_t, 8> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (absl::string_view arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                                lengths.data()) == REDIS_OK;
}

// Flushes the output buffer (first call) and reads the next reply.
ReplyPtr Receive(redisContext* context) {
  void* reply = nullptr;
  if (redisGetReply(context, &reply) != REDIS_OK) return nullptr;
  return ReplyPtr(static_cast<redisReply*>(reply));
}

}  // namespace

absl::StatusOr<RedisReply> RedisConnection::Command(RedisArgs args) {
  if (absl::Status connected = Connect(); !connected.ok()) return connected;
  if (!Append(context_, args)) return Drop();
  ReplyPtr reply = Receive(context_);
  if (reply == nullptr) return Drop();
  if (reply->type == REDIS_REPLY_ERROR) {
    return absl::FailedPreconditionError(
        absl::StrCat("redis: ", absl::string_view(reply->str, reply->len)));
  }
  return Convert(reply.get());
}

absl::Status RedisConnection::Pipeline(absl::Span<const RedisArgs> commands,
                                       std::vector<RedisReply>* replies) {
  replies->clear();
  if (absl::Status connected = Connect(); !connected.ok()) return connected;
  for (RedisArgs args : commands) {
    if (!Append(context_, args)) return Drop();
  }
  replies->reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    ReplyPtr reply = Receive(context_);
    if (reply == nullptr) {
      replies->clear();
      return Drop();
    }
    replies->push_back(Convert(reply.get()));
  }
  return absl::OkStatus();
}

}  // namespace kelola::cache
