#include "libs/log/log.h"

#include "gtest/gtest.h"

namespace kelola::log {
namespace {

TEST(LogTest, LineIsOneJsonObject) {
  const std::string line =
      FormatLine(absl::FromUnixMicros(1767225600123456), Level::kWarn, "customer-svc",
                 "slow \"query\"\n", {{"request_id", "r-1"}, {"tenant", "toko-ani"}});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-01-01T00:00:00.123456Z\",\"level\":\"warn\","
            "\"service\":\"customer-svc\",\"msg\":\"slow \\\"query\\\"\\n\","
            "\"request_id\":\"r-1\",\"tenant\":\"toko-ani\"}");
}

TEST(LogTest, EscapesControlCharactersAndKeepsUtf8) {
  EXPECT_EQ(JsonQuote(std::string("a\x01"
                                  "b")),
            "\"a\\u0001b\"");
  EXPECT_EQ(JsonQuote("สมชาย"), "\"สมชาย\"");
}

TEST(LogTest, ParsesLevels) {
  Level level;
  EXPECT_TRUE(ParseLevel("debug", &level));
  EXPECT_EQ(level, Level::kDebug);
  EXPECT_TRUE(ParseLevel("error", &level));
  EXPECT_EQ(level, Level::kError);
  EXPECT_FALSE(ParseLevel("verbose", &level));
}

}  // namespace
}  // namespace kelola::log
