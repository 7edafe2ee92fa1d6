#include "libs/auth/base64url.h"

#include "gtest/gtest.h"

namespace kelola::auth {
namespace {

TEST(Base64UrlTest, RoundTripsWithoutPadding) {
  for (const std::string& bytes : {std::string(""), std::string("f"), std::string("fo"),
                                   std::string("foo"), std::string("\xff\xfe\x00\x3f", 4)}) {
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find('='), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(text), bytes);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64UrlTest, RefusesEverySecondSpelling) {
  EXPECT_EQ(Base64UrlDecode("Zm8="), std::nullopt);   // padding
  EXPECT_EQ(Base64UrlDecode("Zm 8"), std::nullopt);   // whitespace
  EXPECT_EQ(Base64UrlDecode("+/8"), std::nullopt);    // the other alphabet
  EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt);  // 4k+1 characters
  EXPECT_EQ(Base64UrlDecode("Zm8"), "fo");
  EXPECT_EQ(Base64UrlDecode("Zm-"), std::nullopt);  // unused bits set
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
}

}  // namespace
}  // namespace kelola::auth
