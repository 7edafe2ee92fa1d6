#include "libs/request_id/request_id.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kelola::request_id {
namespace {

TEST(RequestIdTest, AcceptsWhatClientsSend) {
  for (const std::string& id : std::vector<std::string>{
           "3f2b8c1e-2d7a-4e0b-9c55-0c1f2a3b4c5d", "01HZX3V7Q9W8E6R5T4Y3U2I1O0", "imp-2024-05-01",
           "order#17/2026:a.b_c~!", "x", std::string(100, 'z')}) {
    EXPECT_EQ(Problem(id, Presence::kRequired), "") << id;
    EXPECT_TRUE(Validate(id, Presence::kOptional).ok()) << id;
  }
}

TEST(RequestIdTest, RefusesWhatCannotBeStoredOrLogged) {
  for (const std::string& id :
       {std::string(101, 'a'), std::string(1 << 20, 'a'), std::string("a\0b", 3),
        std::string("a b"), std::string("tab\t"), std::string("\x7f"),
        std::string("beli-\xF0\x9F\x98\x80"), std::string("caf\xC3\xA9")}) {
    const absl::Status status = Validate(id, Presence::kOptional, "seal_id");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << id;
    ASSERT_EQ(errors::Violations(status).size(), 1u);
    EXPECT_EQ(errors::Violations(status)[0].field, "seal_id");
    EXPECT_LE(errors::Violations(status)[0].description.size(), 120u);  // never echoes the id
  }
}

TEST(RequestIdTest, EmptyIsFineOnlyWhenOptional) {
  EXPECT_TRUE(Validate("", Presence::kOptional).ok());
  EXPECT_FALSE(Validate("", Presence::kRequired).ok());
  errors::FieldErrors errors;
  Check(errors, "", Presence::kRequired);
  Check(errors, "ok-1", Presence::kRequired, "merge_operation_id");
  ASSERT_EQ(errors.violations().size(), 1u);
  EXPECT_EQ(errors.violations()[0].field, "request_id");
}

}  // namespace
}  // namespace kelola::request_id
