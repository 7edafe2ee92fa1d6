// The Redis pool against a real redis-server: concurrency, timeouts, the breaker, restarts
// and scripts.

#include "libs/cache/redis_pool.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/cache/redis_client.h"
#include "libs/testing/redis_server.h"

namespace kelola::cache {
namespace {

class RedisPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto address = ParseRedisUrl(server_->url());
    ASSERT_TRUE(address.ok());
    options_.server = *address;
    options_.breaker.cool_down = absl::Milliseconds(200);
  }
  void TearDown() override {
    if (server_ != nullptr) (void)server_->Resume();
  }

  // Calls PING until it answers or `limit` passes.
  static bool RecoversWithin(RedisPool& pool, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (pool.Ping().ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<testing::RedisServer> server_;
  RedisPoolOptions options_;
};

TEST_F(RedisPoolTest, ManyThreadsShareThePool) {
  options_.connections = 4;
  RedisPool pool(options_);
  constexpr int kThreads = 24;
  constexpr int kCalls = 300;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = absl::StrCat("k", t);
      for (int i = 0; i < kCalls; ++i) {
        const std::string value = absl::StrCat(i);
        if (!pool.Command({"SET", key, value}).ok()) ++wrong;
        auto got = pool.Command({"GET", key});
        if (!got.ok() || got->text != value) ++wrong;
        if (!pool.Command({"INCR", "total"}).ok()) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  auto total = pool.Command({"GET", "total"});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->text, absl::StrCat(kThreads * kCalls));
  EXPECT_FALSE(pool.open());
}

// Shared calls from many threads, two scripts mixed and one that fails: each caller gets
// its own answer, whatever batch it travelled in, including after Redis forgot the scripts.
TEST_F(RedisPoolTest, SharedScriptCallsEachGetTheirOwnAnswer) {
  options_.connections = 4;
  RedisPool pool(options_);
  const RedisScript echo("return KEYS[1] .. ':' .. ARGV[1]");
  const RedisScript count("return redis.call('INCR', KEYS[1])");
  const RedisScript broken("return redis.call('NO-SUCH-COMMAND')");
  constexpr int kThreads = 32;
  constexpr int kCalls = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = absl::StrCat("k", t);
      for (int i = 0; i < kCalls; ++i) {
        if (t == 0 && i == kCalls / 2) (void)pool.Command({"SCRIPT", "FLUSH"});
        const std::string arg = absl::StrCat(i);
        auto echoed = pool.EvalScriptShared(echo, {key}, {arg});
        if (!echoed.ok() || echoed->text != absl::StrCat(key, ":", i)) ++wrong;
        auto counted = pool.EvalScriptShared(count, {"shared-total"}, {});
        if (!counted.ok() || counted->type != RedisReply::Type::kInteger) ++wrong;
        if (i % 50 == 0) {
          auto failed = pool.EvalScriptShared(broken, {key}, {});
          if (!absl::IsFailedPrecondition(failed.status())) ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  auto total = pool.Command({"GET", "shared-total"});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(total->text, absl::StrCat(kThreads * kCalls));
}

TEST_F(RedisPoolTest, ErrorRepliesAreAnswersNotFailures) {
  RedisPool pool(options_);
  ASSERT_TRUE(pool.Command({"SET", "s", "x"}).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(pool.Command({"INCR", "s"}).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_FALSE(pool.open());
}

TEST_F(RedisPoolTest, PausedRedisTimesOutThenTheBreakerAnswersAtOnce) {
  RedisPool pool(options_);
  ASSERT_TRUE(pool.Ping().ok());
  ASSERT_TRUE(server_->Pause().ok());

  // Concurrent callers: each fails within about a timeout, none hangs.
  std::vector<std::thread> threads;
  std::atomic<int64_t> slowest_ms{0};
  std::atomic<int> succeeded{0};
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      const absl::Time start = absl::Now();
      if (pool.Command({"GET", "x"}).ok()) ++succeeded;
      const int64_t ms = absl::ToInt64Milliseconds(absl::Now() - start);
      int64_t seen = slowest_ms.load();
      while (ms > seen && !slowest_ms.compare_exchange_weak(seen, ms)) {
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(succeeded.load(), 0);
  EXPECT_LT(slowest_ms.load(), 400);
  EXPECT_TRUE(pool.open());

  const absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(pool.Command({"GET", "x"}).status().code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_GE(pool.bypassed(), 100);

  ASSERT_TRUE(server_->Resume().ok());
  EXPECT_TRUE(RecoversWithin(pool, absl::Seconds(3)));
  EXPECT_FALSE(pool.open());
}

TEST_F(RedisPoolTest, RecoversAfterRedisIsKilledAndRestarted) {
  RedisPool pool(options_);
  ASSERT_TRUE(pool.Command({"SET", "a", "1"}).ok());
  ASSERT_TRUE(server_->Kill().ok());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(pool.Ping().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_TRUE(pool.open());

  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(RecoversWithin(pool, absl::Seconds(3)));
  // Every connection is usable again, not just the probe's.
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(pool.Command({"SET", "b", "2"}).ok()) << i;
}

TEST_F(RedisPoolTest, ScriptsSurviveARestart) {
  options_.connections = 2;
  RedisPool pool(options_);
  const RedisScript script("return KEYS[1] .. ':' .. ARGV[1]");
  auto first = pool.EvalScript(script, {"k"}, {"v"});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->text, "k:v");
  // The EVAL fallback cached it: the next call is a plain EVALSHA.
  auto exists = pool.Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists->elements.size(), 1u);
  EXPECT_EQ(exists->elements[0].integer, 1);

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(RecoversWithin(pool, absl::Seconds(3)));
  auto again = pool.EvalScript(script, {"k2"}, {"v2"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->text, "k2:v2");

  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).ok());
  const std::vector<absl::string_view> keys = {"a", "b", "c"};
  const absl::string_view arg = "x";
  std::vector<ScriptCall> calls;
  for (const absl::string_view& key : keys)
    calls.push_back({RedisArgs(&key, 1), RedisArgs(&arg, 1)});
  auto batch = pool.EvalScriptBatch(script, calls);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ((*batch)[0].text, "a:x");
  EXPECT_EQ((*batch)[2].text, "c:x");

  const RedisScript failing("return redis.call('INCR', KEYS[1])");
  ASSERT_TRUE(pool.Command({"SET", "b", "text"}).ok());
  auto mixed = pool.EvalScriptBatch(failing, calls);
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  EXPECT_EQ((*mixed)[0].integer, 1);
  EXPECT_EQ((*mixed)[1].type, RedisReply::Type::kError);
  EXPECT_EQ(pool.EvalScript(failing, {"b"}, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RedisScriptTest, NamesTheScriptAsRedisDoes) {
  // SHA1("return 1"), as SCRIPT LOAD answers.
  EXPECT_EQ(RedisScript("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

}  // namespace
}  // namespace kelola::cache
