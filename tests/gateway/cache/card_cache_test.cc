// The summary-card cache against a real redis-server: versions, invalidation races,
// read-your-writes across replicas, single flight and Redis going away.

#include "gateway/cache/card_cache.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gateway/cache/redis_keys.h"
#include "kelola/report/v1/summary_card.pb.h"
#include "tests/gateway/cache/redis_fixture.h"

namespace kelola::gateway {
namespace {

constexpr char kTenant[] = "t1";

class CardCacheTest : public RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    pool_ = NewPool();
    cache_ = std::make_unique<CardCache>(*pool_);
  }

  // The version of the card Lookup serves, or -1 on a miss.
  int64_t Served(CardCache& cache, absl::string_view customer, int64_t min_version = 0) {
    auto lookup = cache.Lookup(kTenant, customer, min_version);
    EXPECT_TRUE(lookup.ok()) << lookup.status();
    EXPECT_TRUE(lookup->bypass.ok()) << lookup->bypass;
    return lookup->card.has_value() ? lookup->card->ledger_version : -1;
  }

  static absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

  std::unique_ptr<cache::RedisPool> pool_;
  std::unique_ptr<CardCache> cache_;
};

TEST(RedisKeysTest, IdsCannotForgeAnotherKey) {
  EXPECT_EQ(CustomerKey("card", "t", "c"), "kelola:card:{t:c}");
  EXPECT_EQ(TenantKey("rate", "t"), "kelola:rate:{t}");
  EXPECT_NE(CustomerKey("card", "a:b", "c"), CustomerKey("card", "a", "b:c"));
  EXPECT_EQ(CustomerKey("card", "a}{", "%"), "kelola:card:{a%7D%7B:%25}");
}

TEST_F(CardCacheTest, FillThenHit) {
  report::v1::SummaryCard card;
  card.set_customer_id("c1");
  card.set_ledger_version(3);
  const CachedCard cached = ToCachedCard(card);
  EXPECT_EQ(Served(*cache_, "c1"), -1);
  auto stored = cache_->Fill(kTenant, "c1", cached.ledger_version, cached.bytes);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(*stored);

  auto lookup = cache_->Lookup(kTenant, "c1", 0);
  ASSERT_TRUE(lookup.ok());
  ASSERT_TRUE(lookup->card.has_value());
  EXPECT_EQ(lookup->card->ledger_version, 3);
  report::v1::SummaryCard parsed;
  ASSERT_TRUE(parsed.ParseFromString(lookup->card->bytes));
  EXPECT_EQ(parsed.customer_id(), "c1");
  EXPECT_EQ(Served(*cache_, "c2"), -1);  // other customers are not affected
}

TEST_F(CardCacheTest, AnOlderFillNeverOverwritesANewerCard) {
  EXPECT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  EXPECT_FALSE(*cache_->Fill(kTenant, "c1", 4, "four"));
  EXPECT_FALSE(*cache_->Fill(kTenant, "c1", 5, "five again"));
  auto lookup = cache_->Lookup(kTenant, "c1", 0);
  ASSERT_TRUE(lookup->card.has_value());
  EXPECT_EQ(lookup->card->bytes, "five");
  EXPECT_TRUE(*cache_->Fill(kTenant, "c1", 6, "six"));
  EXPECT_EQ(Served(*cache_, "c1"), 6);
}

TEST_F(CardCacheTest, NoteWrittenInvalidatesOlderCards) {
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c1", 6).ok());
  auto lookup = cache_->Lookup(kTenant, "c1", 0);
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->card.has_value());
  EXPECT_EQ(lookup->min_version, 6);  // ask report-svc for at least 6

  EXPECT_TRUE(*cache_->Fill(kTenant, "c1", 6, "six"));
  // An older write noted late (events out of order) changes nothing.
  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c1", 4).ok());
  EXPECT_EQ(Served(*cache_, "c1"), 6);
  EXPECT_EQ(cache_->Lookup(kTenant, "c1", 0)->min_version, 6);
  // Noting the version the card already has keeps it.
  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c1", 6).ok());
  EXPECT_EQ(Served(*cache_, "c1"), 6);
}

TEST_F(CardCacheTest, ASlowFillStartedBeforeAnInvalidationCannotUndoIt) {
  absl::Notification fetched_v5;
  absl::Notification invalidated;
  std::thread reader([&] {
    auto read = cache_->Get(kTenant, "c1", 0, Soon(), [&](int64_t min_version) {
      EXPECT_EQ(min_version, 0);
      fetched_v5.Notify();                // report-svc answered version 5 ...
      invalidated.WaitForNotification();  // ... and the fill is slow to reach Redis
      return absl::StatusOr<CachedCard>(CachedCard{"five", 5});
    });
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->source, CardCache::Source::kFetched);
    EXPECT_EQ(read->card.ledger_version, 5);  // this reader asked for nothing newer
  });
  fetched_v5.WaitForNotification();
  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c1", 6).ok());
  invalidated.Notify();
  reader.join();
  EXPECT_EQ(Served(*cache_, "c1"), -1);  // the stale fill was refused
  EXPECT_FALSE(*cache_->Fill(kTenant, "c1", 5, "five"));
}

TEST_F(CardCacheTest, TheRequestsMinVersionForcesAMiss) {
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  auto lookup = cache_->Lookup(kTenant, "c1", 6);
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->card.has_value());
  EXPECT_EQ(lookup->min_version, 6);
  EXPECT_EQ(Served(*cache_, "c1", 5), 5);
  EXPECT_EQ(cache_->Lookup(kTenant, "c1", -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache_->Lookup(kTenant, "", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CardCacheTest, AWriteNotedOnOneReplicaIsSeenByAnother) {
  auto other_pool = NewPool();
  CardCache other(*other_pool);
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  EXPECT_EQ(Served(other, "c1"), 5);

  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c1", 7).ok());
  auto lookup = other.Lookup(kTenant, "c1", 0);
  ASSERT_TRUE(lookup.ok());
  EXPECT_FALSE(lookup->card.has_value());
  EXPECT_GE(lookup->min_version, 7);
  EXPECT_FALSE(*other.Fill(kTenant, "c1", 6, "six"));
  EXPECT_TRUE(*other.Fill(kTenant, "c1", 7, "seven"));
  EXPECT_EQ(Served(*cache_, "c1"), 7);
}

TEST_F(CardCacheTest, BatchLookupAnswersEveryCustomerInOneCall) {
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 2, "two"));
  ASSERT_TRUE(*cache_->Fill(kTenant, "c3", 4, "four"));
  ASSERT_TRUE(cache_->NoteWritten(kTenant, "c3", 5).ok());
  const std::vector<std::string> customers = {"c1", "c2", "c3"};
  auto lookups = cache_->BatchLookup(kTenant, customers, 0);
  ASSERT_TRUE(lookups.ok()) << lookups.status();
  ASSERT_EQ(lookups->size(), 3u);
  ASSERT_TRUE((*lookups)[0].card.has_value());
  EXPECT_EQ((*lookups)[0].card->bytes, "two");
  EXPECT_FALSE((*lookups)[1].card.has_value());
  EXPECT_EQ((*lookups)[1].min_version, 0);
  EXPECT_FALSE((*lookups)[2].card.has_value());
  EXPECT_EQ((*lookups)[2].min_version, 5);
  for (const CardLookup& lookup : *lookups) EXPECT_TRUE(lookup.bypass.ok());
}

TEST_F(CardCacheTest, ConcurrentMissesFetchOnce) {
  constexpr int kThreads = 50;
  std::atomic<int> fetches{0};
  std::atomic<int> failed{0};
  std::atomic<int> fetched{0};
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      auto read = cache_->Get(kTenant, "hot", 0, Soon(), [&](int64_t) {
        ++fetches;
        absl::SleepFor(absl::Milliseconds(200));  // report-svc is slow
        return absl::StatusOr<CachedCard>(CachedCard{"one", 1});
      });
      if (!read.ok() || read->card.bytes != "one") ++failed;
      if (read.ok() && read->source == CardCache::Source::kFetched) ++fetched;
    });
  }
  go.Notify();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(fetches.load(), 1);
  EXPECT_EQ(fetched.load(), 1);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Served(*cache_, "hot"), 1);
}

TEST_F(CardCacheTest, PausedRedisIsBypassedFast) {
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  ASSERT_TRUE(server_->Pause().ok());
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    auto lookup = cache_->Lookup(kTenant, "c1", 0);
    ASSERT_TRUE(lookup.ok());
    EXPECT_FALSE(lookup->card.has_value());
    EXPECT_EQ(lookup->bypass.code(), absl::StatusCode::kUnavailable);
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(300));
  }
  EXPECT_TRUE(pool_->open());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(cache_->Lookup(kTenant, "c1", 0)->bypass.ok());
  }
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(50));

  // Reads still succeed, from report-svc, and say why the cache did not help.
  auto read = cache_->Get(kTenant, "c1", 0, Soon(), [](int64_t) {
    return absl::StatusOr<CachedCard>(CachedCard{"five", 5});
  });
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->source, CardCache::Source::kFetched);
  EXPECT_EQ(read->cache_status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cache_->NoteWritten(kTenant, "c1", 6).ok());

  ASSERT_TRUE(server_->Resume().ok());
  EXPECT_TRUE(Eventually([&] { return cache_->Lookup(kTenant, "c1", 0)->bypass.ok(); }));
  EXPECT_EQ(Served(*cache_, "c1"), 5);
}

TEST_F(CardCacheTest, RecoversAfterRedisIsKilledAndRestarted) {
  ASSERT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  ASSERT_TRUE(server_->Kill().ok());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(cache_->Lookup(kTenant, "c1", 0)->bypass.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(Eventually([&] { return cache_->Lookup(kTenant, "c1", 0)->bypass.ok(); }));
  EXPECT_EQ(Served(*cache_, "c1"), -1);  // a restarted Redis is empty
  EXPECT_TRUE(*cache_->Fill(kTenant, "c1", 5, "five"));
  EXPECT_EQ(Served(*cache_, "c1"), 5);
}

}  // namespace
}  // namespace kelola::gateway
