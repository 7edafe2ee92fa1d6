// The Redis client against a real redis-server on a free loopback port.

#include "libs/cache/redis_client.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/testing/redis_server.h"

namespace kelola::cache {
namespace {

TEST(RedisUrlTest, ParsesAndRefuses) {
  auto options = ParseRedisUrl("redis://10.1.2.3:6380/2");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->host, "10.1.2.3");
  EXPECT_EQ(options->port, 6380);
  EXPECT_EQ(options->database, 2);
  auto plain = ParseRedisUrl("redis://cache");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 6379);
  for (const char* bad : {"", "cache:6379", "redis://", "redis://h:0", "redis://h:x",
                          "redis://h:1/x", "http://h:1"}) {
    EXPECT_EQ(ParseRedisUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RedisClientTest, CommandsAgainstARealServer) {
  auto server = testing::RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto options = ParseRedisUrl((*server)->url());
  ASSERT_TRUE(options.ok());
  RedisClient client(*options);
  ASSERT_TRUE(client.Ping().ok());

  const std::string binary("card\0with\xffnul", 13);
  auto set = client.Command({"SET", "k", binary});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->text, "OK");
  auto get = client.Command({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->text, binary);
  auto missing = client.Command({"GET", "nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, RedisReply::Type::kNil);
  auto incr = client.Command({"INCRBY", "n", "5"});
  ASSERT_TRUE(incr.ok());
  EXPECT_EQ(incr->integer, 5);
  auto wrong = client.Command({"INCR", "k"});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  auto script = client.Command({"EVAL", "return {1, 'two'}", "0"});
  ASSERT_TRUE(script.ok());
  ASSERT_EQ(script->elements.size(), 2u);
  EXPECT_EQ(script->elements[1].text, "two");
}

TEST(RedisClientTest, DownIsUnavailableFastAndRecovers) {
  auto server = testing::RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  auto options = ParseRedisUrl((*server)->url());
  ASSERT_TRUE(options.ok());
  RedisClient client(*options);
  ASSERT_TRUE(client.Ping().ok());

  ASSERT_TRUE((*server)->Stop().ok());
  const absl::Time start = absl::Now();
  EXPECT_EQ(client.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));

  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_TRUE(client.Ping().ok());
}

}  // namespace
}  // namespace kelola::cache
