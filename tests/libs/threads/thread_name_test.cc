#include "libs/threads/thread_name.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace kelola::threads {
namespace {

std::string NameIn(std::string_view name) {
  std::string seen;
  std::thread t = Start(std::string(name), [&] { seen = ThisThreadName(); });
  t.join();
  return seen;
}

TEST(ThreadNameTest, AThreadNamesItself) { EXPECT_EQ(NameIn("sqlite-ckpt"), "sqlite-ckpt"); }

TEST(ThreadNameTest, ALongNameIsCutToWhatLinuxKeeps) {
  EXPECT_EQ(NameIn("a-name-over-fifteen"), "a-name-over-fif");
  EXPECT_EQ(NameIn("exactly-15-byte"), "exactly-15-byte");
}

TEST(ThreadNameTest, NamingOneThreadLeavesTheOthersAsTheyWere) {
  const std::string before = ThisThreadName();
  EXPECT_EQ(NameIn("worker"), "worker");
  EXPECT_EQ(ThisThreadName(), before);
}

}  // namespace
}  // namespace kelola::threads
