// ParseListFilter's errors: an unexpected non-ASCII character is quoted whole (its code
// point), at its character offset.

#include "customer-svc/domain/list_filter.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

void ExpectUnexpected(const std::string& filter, const std::string& character,
                      const std::string& position) {
  SCOPED_TRACE(filter);
  auto parsed = ParseListFilter(filter);
  ASSERT_FALSE(parsed.ok());
  const auto metadata = errors::GetMetadata(parsed.status());
  ASSERT_EQ(metadata.count("detail"), 1u);
  EXPECT_EQ(metadata.at("detail"), "unexpected character '" + character + "'");
  EXPECT_EQ(metadata.at("position"), position);
  EXPECT_NE(std::string(parsed.status().message()).find("'" + character + "'"), std::string::npos)
      << parsed.status();
}

TEST(ListFilterTest, UnexpectedNonAsciiCharacterIsQuotedWhole) {
  ExpectUnexpected("é", "é", "0");
  ExpectUnexpected("state = ACTIVE AND é", "é", "19");
  ExpectUnexpected("ก", "ก", "0");                           // Thai, three bytes
  ExpectUnexpected("category_id = \"ก\" AND ข", "ข", "22");  // offset in characters
  ExpectUnexpected("😀", "😀", "0");                           // four bytes
  ExpectUnexpected("#", "#", "0");
}

}  // namespace
}  // namespace kelola::customer::domain
