#include "libs/ids/ids.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/errors/errors.h"

namespace kelola::ids {
namespace {

constexpr std::array<uint32_t, 2> kSeed = {1, 2};

TEST(IdGeneratorTest, CanonicalLowerCaseUuidV7) {
  FakeClock clock;
  IdGenerator generator(clock, kSeed);
  std::string id = generator.NewId();
  ASSERT_EQ(id.size(), kIdLength);
  EXPECT_TRUE(IsValidId(id)) << id;
  EXPECT_EQ(id[14], '7') << id;                                          // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10
  EXPECT_EQ(id, absl::AsciiStrToLower(id));
  EXPECT_EQ(*NormalizeId(id), id);
}

TEST(IdGeneratorTest, EmbedsTheClockTime) {
  FakeClock clock(absl::FromUnixMillis(1767225600123));
  IdGenerator generator(clock, kSeed);
  std::string id = generator.NewId();
  // 1767225600123 ms = 0x019B76DAA87B.
  EXPECT_EQ(id.substr(0, 13), "019b76da-a87b") << id;
  EXPECT_EQ(IdTime(id), absl::FromUnixMillis(1767225600123));
}

TEST(IdGeneratorTest, TimeOrderedAcrossMilliseconds) {
  FakeClock clock;
  IdGenerator generator(clock, kSeed);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(generator.NewId());
    clock.Advance(absl::Milliseconds(1 + i % 3));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(IdGeneratorTest, StrictlyIncreasingWithinOneMillisecond) {
  FakeClock clock;
  IdGenerator generator(clock, kSeed);
  std::string previous = generator.NewId();
  for (int i = 0; i < 10000; ++i) {
    std::string id = generator.NewId();
    ASSERT_LT(previous, id);
    previous = id;
  }
  EXPECT_EQ(IdTime(previous), clock.Now());  // no millisecond borrowed
}

TEST(IdGeneratorTest, ClockSteppingBackKeepsOrder) {
  FakeClock clock;
  IdGenerator generator(clock, kSeed);
  std::string before = generator.NewId();
  clock.Advance(absl::Seconds(-5));
  std::string after = generator.NewId();
  EXPECT_LT(before, after);
  EXPECT_EQ(IdTime(after), IdTime(before));
}

TEST(IdGeneratorTest, SameSeedSameIdsDifferentSeedDifferentIds) {
  FakeClock clock;
  IdGenerator a(clock, kSeed);
  IdGenerator b(clock, kSeed);
  std::array<uint32_t, 2> other_seed = {3, 4};
  IdGenerator c(clock, other_seed);
  std::string id_a = a.NewId();
  EXPECT_EQ(id_a, b.NewId());
  EXPECT_NE(id_a, c.NewId());
}

TEST(IdGeneratorTest, OsSeededGeneratorsDiffer) {
  IdGenerator a(RealClock::Get(), IdGenerator::OsSeed());
  IdGenerator b(RealClock::Get(), IdGenerator::OsSeed());
  EXPECT_NE(a.NewId(), b.NewId());
}

TEST(IdGeneratorTest, ThreadSafeAndUnique) {
  FakeClock clock;
  IdGenerator generator(clock, kSeed);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  absl::Mutex mu;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        per_thread[t].push_back(generator.NewId());
        if (i % 100 == 0) clock.Advance(absl::Milliseconds(1));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& ids : per_thread) {
    // Each thread sees its own ids increase.
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(IsValidIdTest, AnyVersionAnyCase) {
  EXPECT_TRUE(IsValidId("0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60"));  // v7
  EXPECT_TRUE(IsValidId("f47ac10b-58cc-4372-a567-0e02b2c3d479"));  // v4
  EXPECT_TRUE(IsValidId("F47AC10B-58CC-4372-A567-0E02B2C3D479"));  // v4 upper case
  EXPECT_TRUE(IsValidId("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));  // v1
  EXPECT_TRUE(IsValidId("886313e1-3b8a-5372-9b90-0c9aee199e5d"));  // v5
}

TEST(IsValidIdTest, Refusals) {
  for (const char* id :
       {"", "not-a-uuid", "f47ac10b58cc4372a5670e02b2c3d479",
        "{f47ac10b-58cc-4372-a567-0e02b2c3d479}", "urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "f47ac10b-58cc-4372-a567-0e02b2c3d47", "f47ac10b-58cc-4372-a567-0e02b2c3d4799",
        "g47ac10b-58cc-4372-a567-0e02b2c3d479", "f47ac10b-58cc-4372-a5670-e02b2c3d479",
        " f47ac10b-58cc-4372-a567-0e02b2c3d479", "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"}) {
    EXPECT_FALSE(IsValidId(id)) << id;
    absl::StatusOr<std::string> normalized = NormalizeId(id);
    EXPECT_EQ(normalized.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(errors::Reason(normalized.status()), kReasonIdInvalid) << id;
  }
}

TEST(NormalizeIdTest, LowerCases) {
  EXPECT_EQ(*NormalizeId("F47AC10B-58CC-4372-A567-0E02B2C3D479"),
            "f47ac10b-58cc-4372-a567-0e02b2c3d479");
}

TEST(IdTimeTest, OnlyForVersion7) {
  EXPECT_EQ(IdTime("f47ac10b-58cc-4372-a567-0e02b2c3d479"), std::nullopt);
  EXPECT_EQ(IdTime("garbage"), std::nullopt);
  EXPECT_TRUE(IdTime("0190A3B2-7C4E-7D21-8F3A-1B2C3D4E5F60").has_value());
}

}  // namespace
}  // namespace kelola::ids
