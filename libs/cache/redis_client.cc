#include "libs/cache/redis_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kelola::cache {

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

absl::StatusOr<RedisReply> RedisClient::Command(const std::vector<std::string>& args) {
  std::vector<absl::string_view> views(args.begin(), args.end());
  absl::MutexLock lock(&mu_);
  return connection_.Command(views);
}

absl::Status RedisClient::Ping() {
  auto reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->text != "PONG") return absl::UnavailableError("redis: unexpected PING reply");
  return absl::OkStatus();
}

}  // namespace kelola::cache
