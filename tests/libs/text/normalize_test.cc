#include "libs/text/normalize.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::text {
namespace {

constexpr char kJoseComposed[] = "Jos\u00E9";     // é as one code point
constexpr char kJoseDecomposed[] = "Jose\u0301";  // e + combining acute

TEST(NfcTest, ComposesCanonicalEquivalents) {
  EXPECT_EQ(Nfc(kJoseDecomposed), kJoseComposed);
  EXPECT_EQ(Nfc(kJoseComposed), kJoseComposed);
  EXPECT_EQ(Nfc("สมชาย ใจดี"), "สมชาย ใจดี");
  EXPECT_EQ(Nfc(""), "");
  // NFC keeps compatibility characters (only NFKC folds them).
  EXPECT_EQ(Nfc("\uFF22udi"), "\uFF22udi");
}

TEST(NfcTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Nfc("a\xff"
                "b"),
            "a\uFFFDb");
}

TEST(FoldForMatchTest, IndonesianAccentsAndCase) {
  EXPECT_EQ(FoldForMatch(kJoseComposed), "jose");
  EXPECT_EQ(FoldForMatch(kJoseDecomposed), "jose");
  EXPECT_EQ(FoldForMatch("JOSÉ"), "jose");
  EXPECT_EQ(FoldForMatch("jose"), "jose");
  EXPECT_EQ(FoldForMatch("Budi Santoso"), "budi santoso");
  EXPECT_EQ(FoldForMatch("Ñoño Çelik Ünal"), "nono celik unal");
  EXPECT_EQ(FoldForMatch("İstanbul"), "istanbul");
  EXPECT_EQ(FoldForMatch("Straße"), "strasse");
}

TEST(FoldForMatchTest, CompatibilityFormsAndIgnorables) {
  EXPECT_EQ(FoldForMatch("\uFF22\uFF35\uFF24\uFF29"), "budi");  // full-width
  EXPECT_EQ(FoldForMatch("Bu\u200Bdi"), "budi");                // zero-width space
  EXPECT_EQ(FoldForMatch("Bu\u00ADdi"), "budi");                // soft hyphen
}

TEST(FoldForMatchTest, WhiteSpaceCollapsedAndTrimmed) {
  EXPECT_EQ(FoldForMatch("  Budi   \t Santoso \n"), "budi santoso");
  EXPECT_EQ(FoldForMatch("Budi\u00A0\u3000Santoso"), "budi santoso");
  EXPECT_EQ(FoldForMatch("\xEF\xBB\xBF"
                         "Budi"),
            "budi");
  EXPECT_EQ(FoldForMatch("   "), "");
  EXPECT_EQ(FoldForMatch(""), "");
}

TEST(FoldForMatchTest, ThaiIsPreserved) {
  EXPECT_EQ(FoldForMatch("สมชาย ใจดี"), "สมชาย ใจดี");
  EXPECT_EQ(FoldForMatch("  สมชาย   ใจดี "), "สมชาย ใจดี");
  // Tone marks and vowel marks are kept: these are different names.
  EXPECT_EQ(FoldForMatch("น้อย"), "น้อย");
  EXPECT_NE(FoldForMatch("น้อย"), FoldForMatch("นอย"));
  EXPECT_EQ(FoldForMatch("วิไล"), "วิไล");
  // SARA AM is rewritten by NFKC, consistently.
  EXPECT_EQ(FoldForMatch("สำราญ"), FoldForMatch("ส\u0E4D\u0E32ราญ"));
  EXPECT_NE(FoldForMatch("สำราญ").find(FoldForMatch("ราญ")), std::string::npos);
}

TEST(FoldForMatchTest, MixedScriptsStripOnlyLatinMarks) {
  EXPECT_EQ(FoldForMatch("Café สมชาย"), "cafe สมชาย");
}

TEST(FoldForMatchTest, Idempotent) {
  for (const char* s :
       {"José Ñoño", "สมชาย ใจดี", "สำราญ", "ＢＵＤＩ  Santoso", "Straße", "Ǆemal"}) {
    std::string once = FoldForMatch(s);
    EXPECT_EQ(FoldForMatch(once), once) << s;
    EXPECT_EQ(Nfc(once), once) << s;
  }
}

TEST(Utf8Test, ValidityAndCount) {
  EXPECT_TRUE(IsValidUtf8("สมชาย"));
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE0\xB8"));      // truncated
  EXPECT_EQ(CodePointCount("สมชาย"), 5u);
  EXPECT_EQ(CodePointCount("José"), 4u);
  EXPECT_EQ(CodePointCount("😀"), 1u);
}

TEST(TrimmedNameTest, TrimsCollapsesAndComposes) {
  EXPECT_EQ(*TrimmedName("  Budi   Santoso \t", 100), "Budi Santoso");
  EXPECT_EQ(*TrimmedName(kJoseDecomposed, 100), kJoseComposed);
  EXPECT_EQ(*TrimmedName(" สมชาย  ใจดี ", 100), "สมชาย ใจดี");
  EXPECT_EQ(*TrimmedName("Budi\nSantoso", 100), "Budi Santoso");
}

TEST(TrimmedNameTest, CountsCodePointsNotBytes) {
  // "สมชาย ใจดี" is 10 code points and 30 bytes.
  EXPECT_EQ(*TrimmedName("สมชาย ใจดี", 10), "สมชาย ใจดี");
  absl::StatusOr<std::string> too_long = TrimmedName("สมชาย ใจดี", 9);
  EXPECT_EQ(errors::Reason(too_long.status()), kReasonTextTooLong);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  // The composed form is what is counted: "Jose" + U+0301 is 4 characters.
  EXPECT_TRUE(TrimmedName(kJoseDecomposed, 4).ok());
  // Surrounding spaces do not count.
  EXPECT_TRUE(TrimmedName("   Budi   ", 4).ok());
}

TEST(TrimmedNameTest, Refusals) {
  EXPECT_EQ(errors::Reason(TrimmedName("Bu\xffi", 100).status()), kReasonTextInvalidUtf8);
  EXPECT_EQ(errors::Reason(TrimmedName("\xC0\xAF", 100).status()), kReasonTextInvalidUtf8);
  EXPECT_EQ(errors::Reason(TrimmedName(std::string("Bu\0di", 5), 100).status()),
            kReasonTextControlCharacter);
  EXPECT_EQ(errors::Reason(TrimmedName("Bu\x1b[31mdi", 100).status()), kReasonTextControlCharacter);
  EXPECT_EQ(errors::Reason(TrimmedName("", 100).status()), kReasonTextEmpty);
  EXPECT_EQ(errors::Reason(TrimmedName(" \t\u00A0 ", 100).status()), kReasonTextEmpty);
}

}  // namespace
}  // namespace kelola::text
