#include "libs/errors/errors.h"

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace kelola::errors {
namespace {

using ::testing::ElementsAre;

TEST(ErrorsTest, FieldErrorsNameEveryField) {
  FieldErrors errors;
  EXPECT_TRUE(errors.ToStatus().ok());
  errors.Add("customer.display_name", "must not be empty");
  errors.Add("customer.phone", "not a phone number");
  absl::Status status = errors.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reason(status), "INVALID_ARGUMENT");
  EXPECT_THAT(Violations(status),
              ElementsAre(FieldViolation{"customer.display_name", "must not be empty"},
                          FieldViolation{"customer.phone", "not a phone number"}));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("customer.phone"));
}

TEST(ErrorsTest, MergePrefixesNestedViolations) {
  FieldErrors nested;
  nested.Add("amount_minor", "must be positive");
  FieldErrors errors;
  errors.Merge("payment.amount", nested.ToStatus());
  errors.Merge("payment.method", absl::InvalidArgumentError("unknown method"));
  errors.Merge("ignored", absl::OkStatus());
  EXPECT_THAT(errors.violations(),
              ElementsAre(FieldViolation{"payment.amount.amount_minor", "must be positive"},
                          FieldViolation{"payment.method", "unknown method"}));
}

TEST(ErrorsTest, GrpcStatusCarriesStandardDetails) {
  absl::Status status = Error(absl::StatusCode::kAlreadyExists, "CUSTOMER_DUPLICATE",
                              "phone already used", {{"existing_customer_id", "c-1"}});
  grpc::Status out = ToGrpcStatus(status, "customer.kelola.id");
  EXPECT_EQ(out.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(out.error_message(), "phone already used");

  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  EXPECT_EQ(details.code(), 6);
  ASSERT_EQ(details.details_size(), 1);
  EXPECT_EQ(details.details(0).type_url(), "type.googleapis.com/google.rpc.ErrorInfo");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(info.domain(), "customer.kelola.id");
  EXPECT_EQ(info.metadata().at("existing_customer_id"), "c-1");
}

TEST(ErrorsTest, BadRequestTravelsAndComesBack) {
  FieldErrors errors;
  errors.Add("page_size", "must be between 0 and 1000");
  grpc::Status out = ToGrpcStatus(errors.ToStatus(), "customer.kelola.id");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "page_size");

  absl::Status back = FromGrpcStatus(out);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reason(back), "INVALID_ARGUMENT");
  EXPECT_THAT(Violations(back),
              ElementsAre(FieldViolation{"page_size", "must be between 0 and 1000"}));
}

TEST(ErrorsTest, InternalDetailsDoNotLeak) {
  grpc::Status out =
      ToGrpcStatus(absl::InternalError("near \"SELEC\": syntax error"), "ledger.kelola.id");
  EXPECT_EQ(out.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(out.error_message(), "internal error");
  EXPECT_EQ(Reason(FromGrpcStatus(out)), "INTERNAL");
}

TEST(ErrorsTest, PlainStatusGetsCodeAsReason) {
  EXPECT_EQ(Reason(absl::NotFoundError("x")), "NOT_FOUND");
  EXPECT_EQ(Reason(absl::FailedPreconditionError("x")), "FAILED_PRECONDITION");
  EXPECT_EQ(Reason(absl::OkStatus()), "");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus(), "d").ok());
}

}  // namespace
}  // namespace kelola::errors
