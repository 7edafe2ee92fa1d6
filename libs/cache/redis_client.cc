#include "libs/cache/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kelola::cache {
namespace {

RedisReply Convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < reply->elements; ++i)
        out.elements.push_back(Convert(reply->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

}  // namespace

absl::StatusOr<RedisOptions> ParseRedisUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return absl::InvalidArgumentError(absl::StrCat("'", url, "' is not redis://HOST:PORT[/DB]"));
  }
  RedisOptions options;
  absl::string_view db;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!absl::SimpleAtoi(db, &options.database) || options.database < 0)) {
      return absl::InvalidArgumentError(absl::StrCat("'", url, "' has an invalid database number"));
    }
  }
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    options.host = std::string(rest);
  } else {
    options.host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &options.port) || options.port <= 0 ||
        options.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("'", url, "' has an invalid port"));
    }
  }
  if (options.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", url, "' has no host"));
  }
  return options;
}

RedisClient::~RedisClient() {
  absl::MutexLock lock(&mu_);
  if (context_ != nullptr) redisFree(context_);
}

absl::Status RedisClient::ConnectLocked() {
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
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "SELECT %d", options_.database));
    const bool ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
    if (reply != nullptr) freeReplyObject(reply);
    if (!ok) {
      redisFree(context_);
      context_ = nullptr;
      return absl::UnavailableError("redis: cannot select database");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  absl::MutexLock lock(&mu_);
  if (absl::Status connected = ConnectLocked(); !connected.ok()) return connected;
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    std::string error = context_->errstr;
    redisFree(context_);
    context_ = nullptr;  // reconnect on the next call
    return absl::UnavailableError(absl::StrCat("redis: ", error));
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string error(reply->str, reply->len);
    freeReplyObject(reply);
    return absl::FailedPreconditionError(absl::StrCat("redis: ", error));
  }
  RedisReply out = Convert(reply);
  freeReplyObject(reply);
  return out;
}

absl::Status RedisClient::Ping() {
  auto reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->text != "PONG") return absl::UnavailableError("redis: unexpected PING reply");
  return absl::OkStatus();
}

}  // namespace kelola::cache
