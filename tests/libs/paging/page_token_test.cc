#include "libs/paging/page_token.h"

#include <fstream>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"
#include "libs/testing/temp_dir.h"

namespace kelola::paging {
namespace {

using ::testing::ElementsAre;

const std::string kSecretA(32, 'a');
const std::string kSecretB = "another secret of at least 32 bytes!!";

PageTokenCodec Codec(std::vector<std::string> secrets) {
  auto codec = PageTokenCodec::Create(secrets);
  EXPECT_TRUE(codec.ok()) << codec.status();
  return *std::move(codec);
}

void ExpectReason(const absl::StatusOr<std::vector<std::string>>& decoded,
                  const std::string& reason) {
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(decoded.status()), reason);
  ASSERT_EQ(errors::Violations(decoded.status()).size(), 1u);
  EXPECT_EQ(errors::Violations(decoded.status())[0].field, "page_token");
}

TEST(PageTokenTest, RoundTripsAnyText) {
  const PageTokenCodec codec = Codec({kSecretA});
  const std::vector<std::string> values = {"", "123", std::string("\0|:\x7f", 4),
                                           "Budi Santoso é สมชาย 😀", std::string(300, 'x')};
  const std::string token = codec.Encode("list", "t1", "filter|order", values);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  auto decoded = codec.Decode(token, "list", "t1", "filter|order");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, values);
  auto empty = codec.Decode(codec.Encode("k", "", "", {}), "k", "", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// Values are used as text (SQL parameters): even a genuinely signed token carrying bytes
// that are not UTF-8 is refused, so no caller ever sees them.
TEST(PageTokenTest, GenuineTokenWithValuesThatAreNotTextIsInvalid) {
  const PageTokenCodec codec = Codec({kSecretA});
  for (const std::string& bad :
       {std::string("\xff"), std::string("abc\xc3"), std::string("\xc0\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    const std::string token = codec.Encode("list", "t1", "b", {"ok", bad});
    ExpectReason(codec.Decode(token, "list", "t1", "b"), kReasonPageTokenInvalid);
  }
}

TEST(PageTokenTest, TokenValuesAreBoundedText) {
  EXPECT_TRUE(IsTokenValue(""));
  EXPECT_TRUE(IsTokenValue("สมชาย é"));
  EXPECT_TRUE(IsTokenValue(std::string(kMaxTokenValueBytes, 'x')));
  EXPECT_FALSE(IsTokenValue(std::string(kMaxTokenValueBytes + 1, 'x')));
  EXPECT_FALSE(IsTokenValue("\xff"));
  EXPECT_FALSE(IsTokenValue("\xe0\xb8"));  // a cut Thai character
}

TEST(PageTokenTest, OtherParametersAreAMismatch) {
  const PageTokenCodec codec = Codec({kSecretA});
  const std::string token = codec.Encode("list", "t1", "filter=a", {"1"});
  ExpectReason(codec.Decode(token, "list", "t1", "filter=b"), kReasonPageTokenMismatch);
}

TEST(PageTokenTest, EveryAlteredByteIsRefused) {
  const PageTokenCodec codec = Codec({kSecretA});
  const std::string token = codec.Encode("list", "t1", "b", {"1767225600", "cust-42"});
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  for (size_t i = 0; i < raw.size(); ++i) {
    for (const unsigned char flip : {0x01, 0x80}) {
      std::string altered = raw;
      altered[i] = static_cast<char>(altered[i] ^ flip);
      auto decoded = codec.Decode(absl::WebSafeBase64Escape(altered), "list", "t1", "b");
      EXPECT_FALSE(decoded.ok()) << "byte " << i;
      // A flipped binding digest cannot pass as a mere mismatch either: the tag covers it.
      EXPECT_EQ(errors::Reason(decoded.status()), kReasonPageTokenInvalid) << "byte " << i;
    }
  }
}

TEST(PageTokenTest, TruncatedExtendedForeignAndGarbageAreInvalid) {
  const PageTokenCodec codec = Codec({kSecretA});
  const std::string token = codec.Encode("list", "t1", "b", {"42", "x"});
  for (size_t n = 0; n < token.size(); ++n) {
    ExpectReason(codec.Decode(token.substr(0, n), "list", "t1", "b"), kReasonPageTokenInvalid);
  }
  ExpectReason(codec.Decode(token + "AA", "list", "t1", "b"), kReasonPageTokenInvalid);
  ExpectReason(codec.Decode(token, "list", "t2", "b"), kReasonPageTokenInvalid);    // tenant
  ExpectReason(codec.Decode(token, "search", "t1", "b"), kReasonPageTokenInvalid);  // call
  ExpectReason(Codec({kSecretB}).Decode(token, "list", "t1", "b"), kReasonPageTokenInvalid);
  ExpectReason(codec.Decode("%%%", "list", "t1", "b"), kReasonPageTokenInvalid);
  ExpectReason(codec.Decode(std::string(100000, 'A'), "list", "t1", "b"), kReasonPageTokenInvalid);
  // The unkeyed token of earlier releases: refused, not misread.
  ExpectReason(codec.Decode(absl::WebSafeBase64Escape("2:k14:list"), "list", "t1", "b"),
               kReasonPageTokenInvalid);
}

TEST(PageTokenTest, RotationKeepsOldTokensReadable) {
  const std::string old_token = Codec({kSecretA}).Encode("list", "t1", "b", {"7"});
  const PageTokenCodec rotated = Codec({kSecretB, kSecretA});
  auto decoded = rotated.Decode(old_token, "list", "t1", "b");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(*decoded, ElementsAre("7"));
  // New tokens are signed with the new secret only.
  const std::string new_token = rotated.Encode("list", "t1", "b", {"8"});
  ExpectReason(Codec({kSecretA}).Decode(new_token, "list", "t1", "b"), kReasonPageTokenInvalid);
  EXPECT_TRUE(Codec({kSecretB}).Decode(new_token, "list", "t1", "b").ok());
}

TEST(PageTokenTest, ReplicasWithTheSameSecretAcceptEachOthersTokens) {
  const std::string token = Codec({kSecretA}).Encode("list", "t1", "b", {"9"});
  EXPECT_TRUE(Codec({kSecretA}).Decode(token, "list", "t1", "b").ok());
}

TEST(PageTokenTest, ShortSecretsAreRefused) {
  EXPECT_FALSE(PageTokenCodec::Create({}).ok());
  EXPECT_FALSE(PageTokenCodec::Create({std::string(31, 'x')}).ok());
  EXPECT_FALSE(PageTokenCodec::Create({kSecretA, "short"}).ok());
}

TEST(PageTokenTest, SecretsFile) {
  auto dir = testing::TempDir::Create("page-token");
  ASSERT_TRUE(dir.ok());
  const std::string path = (*dir)->path() + "/keys";
  std::ofstream(path) << "# current first, then the previous one\n"
                      << kSecretB << "\n\n  " << kSecretA << "  \n";
  auto secrets = ReadSecretsFile(path);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  EXPECT_THAT(*secrets, ElementsAre(kSecretB, kSecretA));
  EXPECT_EQ(ReadSecretsFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  std::ofstream(path, std::ios::trunc) << "# nothing\n";
  EXPECT_FALSE(ReadSecretsFile(path).ok());
}

TEST(PageTokenTest, ProcessCodecCanBeReplaced) {
  const std::string dev = EncodeToken("k", "s", "b", {"1"});
  EXPECT_TRUE(DecodeToken(dev, "k", "s", "b").ok());
  InstallCodec(Codec({kSecretA}));
  ExpectReason(DecodeToken(dev, "k", "s", "b"), kReasonPageTokenInvalid);
  EXPECT_TRUE(DecodeToken(EncodeToken("k", "s", "b", {"1"}), "k", "s", "b").ok());
  InstallCodec(PageTokenCodec::Development());
}

}  // namespace
}  // namespace kelola::paging
