#include "libs/text/email.h"

#include <string>

#include "gtest/gtest.h"

namespace kelola::text {
namespace {

TEST(IsValidEmailTest, Accepts) {
  for (const char* email :
       {"budi@example.com", "budi.santoso@toko-maju.co.id", "siti+promo@gmail.com", "a@b.co",
        "o'neil@example.org", "user_name-1@sub.domain.example", "BUDI@EXAMPLE.COM",
        "สมชาย@ตัวอย่าง.ไทย", "somchai@example.co.th", "x@example.xn--o3cw4h"}) {
    EXPECT_TRUE(IsValidEmail(email)) << email;
  }
}

TEST(IsValidEmailTest, Refuses) {
  for (const char* email : {"",
                            "budi",
                            "budi@",
                            "@example.com",
                            "budi@example",
                            "budi@@example.com",
                            "budi@exa@mple.com",
                            "budi @example.com",
                            " budi@example.com",
                            "budi@example.com ",
                            ".budi@example.com",
                            "budi.@example.com",
                            "bu..di@example.com",
                            "budi@-example.com",
                            "budi@example-.com",
                            "budi@example..com",
                            "budi@.example.com",
                            "budi@example.com.",
                            "budi@example.c",
                            "budi@1.2.3.4",
                            "budi@[1.2.3.4]",
                            "\"budi\"@example.com",
                            "bu(di)@example.com",
                            "budi,santoso@example.com",
                            "budi@exam_ple.com",
                            "budi@example.com\n",
                            "bu\xffi@example.com"}) {
    EXPECT_FALSE(IsValidEmail(email)) << email;
  }
  EXPECT_FALSE(IsValidEmail(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(IsValidEmail(std::string(64, 'a') + "@example.com"));
  EXPECT_FALSE(IsValidEmail("a@" + std::string(64, 'b') + ".com"));
  const std::string label(63, 'b');
  EXPECT_TRUE(IsValidEmail("a@" + label + "." + label + "." + label + ".com"));
  EXPECT_FALSE(IsValidEmail("a@" + label + "." + label + "." + label + "." + label + ".com"));
}

TEST(NormalizeEmailTest, TrimsAndLowerCases) {
  EXPECT_EQ(NormalizeEmail("  Budi.Santoso@Example.COM \t"), "budi.santoso@example.com");
  EXPECT_EQ(NormalizeEmail("\u00A0SITI@GMAIL.COM\u00A0"), "siti@gmail.com");
  EXPECT_EQ(NormalizeEmail("JOSÉ@Example.com"), "josé@example.com");
  EXPECT_EQ(NormalizeEmail("Jose\u0301@example.com"), "jos\u00E9@example.com");
  EXPECT_EQ(NormalizeEmail("สมชาย@ตัวอย่าง.ไทย"), "สมชาย@ตัวอย่าง.ไทย");
  // Provider-specific forms are kept.
  EXPECT_EQ(NormalizeEmail("Siti.R+promo@gmail.com"), "siti.r+promo@gmail.com");
  EXPECT_TRUE(IsValidEmail(NormalizeEmail("  Budi@Example.com  ")));
}

}  // namespace
}  // namespace kelola::text
