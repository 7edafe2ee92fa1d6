// Request checks shared by the ledger's handlers: lengths in characters, and the reasons of
// errors that come without one.

#include "ledger-svc/api/request_support.h"

#include <string>

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger::api {
namespace {

TEST(RequestSupportTest, LengthsCountCodePointsNotBytes) {
  EXPECT_EQ(CharacterCount(""), 0u);
  EXPECT_EQ(CharacterCount("Beras"), 5u);
  EXPECT_EQ(CharacterCount("ข้าว"), 4u);     // Thai: 4 code points, 12 bytes
  EXPECT_EQ(CharacterCount("Kopi ☕"), 6u);  // a 3-byte symbol
  EXPECT_EQ(CharacterCount("😀x"), 2u);      // a 4-byte emoji
  std::string thai;
  for (int i = 0; i < 200; ++i) thai += "ก";
  errors::FieldErrors ok;
  CheckLength(ok, "name", thai, 200, true);
  EXPECT_TRUE(ok.empty());
  errors::FieldErrors too_long;
  CheckLength(too_long, "name", thai + "ก", 200, true);
  ASSERT_EQ(too_long.violations().size(), 1u);
  EXPECT_EQ(too_long.violations()[0].field, "name");
}

TEST(RequestSupportTest, DatabaseErrorsGetTheContractsReasons) {
  auto reason = [](const grpc::Status& s) { return errors::Reason(errors::FromGrpcStatus(s)); };
  EXPECT_EQ(reason(ToGrpc(absl::UnavailableError("postgres: cannot connect"))),
            "STORE_UNAVAILABLE");
  EXPECT_EQ(reason(ToGrpc(absl::AbortedError("serialization failure"))), "CONCURRENT_MODIFICATION");
  // A reason already given is kept.
  EXPECT_EQ(reason(ToGrpc(errors::Error(absl::StatusCode::kUnavailable,
                                        "CUSTOMER_SERVICE_UNAVAILABLE", "down"))),
            "CUSTOMER_SERVICE_UNAVAILABLE");
  EXPECT_EQ(ToGrpc(absl::UnavailableError("x")).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace kelola::ledger::api
