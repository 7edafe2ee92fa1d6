#pragma once

// A real redis-server per test and pools on it, as gateway replicas would have.

#include <memory>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/cache/redis_client.h"
#include "libs/cache/redis_pool.h"
#include "libs/testing/redis_server.h"

namespace kelola::gateway {

class RedisFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override { (void)server_->Resume(); }

  // A pool as a gateway replica has one; a short cool-down keeps the tests quick.
  std::unique_ptr<cache::RedisPool> NewPool() {
    cache::RedisPoolOptions options;
    options.server = *cache::ParseRedisUrl(server_->url());
    options.breaker.cool_down = absl::Milliseconds(200);
    return std::make_unique<cache::RedisPool>(options);
  }

  // Runs `ok` until it returns true or `limit` passes.
  template <typename Check>
  static bool Eventually(Check ok, absl::Duration limit = absl::Seconds(3)) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<testing::RedisServer> server_;
};

}  // namespace kelola::gateway
