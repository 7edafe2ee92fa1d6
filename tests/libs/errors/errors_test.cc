#include "libs/errors/errors.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/grpcpp.h"
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

// A strict UTF-8 check (RFC 3629), independent of the code under test.
bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4)) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n;
  }
  return true;
}

TEST(ClipUtf8Test, CutsThaiOnCodePointBoundariesAtEveryLength) {
  const std::string thai = "ชื่อลูกค้า สมชาย ใจดี é ✓ 😀";
  for (size_t max = 0; max <= thai.size() + 1; ++max) {
    const std::string clipped = ClipUtf8(thai, max);
    EXPECT_TRUE(IsValidUtf8(clipped)) << "max " << max;
    EXPECT_LE(clipped.size(), max);
    if (max >= thai.size()) {
      EXPECT_EQ(clipped, thai);
    } else if (max >= 3) {
      EXPECT_TRUE(absl::EndsWith(clipped, "…")) << "max " << max;
      // Everything before the ellipsis is a prefix of the text.
      EXPECT_TRUE(absl::StartsWith(thai, clipped.substr(0, clipped.size() - 3)));
    }
  }
}

TEST(ClipUtf8Test, ReplacesInvalidBytes) {
  EXPECT_EQ(ClipUtf8("a\xC3(b", 100), "a\xEF\xBF\xBD(b");
  EXPECT_EQ(ClipUtf8("\xED\xA0\x80", 100), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ClipUtf8("\xC0\xAF", 100), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(ClipUtf8("\xF0\x9F\x98", 100), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // cut emoji
  EXPECT_EQ(ClipUtf8("plain", 100), "plain");
}

// A filter error quoting the first byte of "é" (a cut sequence) must still give details
// that a strict client can decode.
TEST(ErrorsTest, CutUtf8InAnErrorStillDecodes) {
  const std::string cut = "unexpected character '\xC3'";
  absl::Status status = Error(absl::StatusCode::kInvalidArgument, "INVALID_FILTER",
                              absl::StrCat("invalid filter at position 9: ", cut),
                              {{"detail", cut}}, {{"filter", absl::StrCat("position 9: ", cut)}});
  grpc::Status out = ToGrpcStatus(status, "customer.kelola.id");
  EXPECT_TRUE(IsValidUtf8(out.error_message()));
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(out.error_details()));  // strict: fails on bad UTF-8
  EXPECT_TRUE(IsValidUtf8(details.message()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INVALID_FILTER");
  EXPECT_EQ(info.metadata().at("detail"), "unexpected character '\xEF\xBF\xBD'");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "filter");
}

TEST(ErrorsTest, FieldErrorsMessageStaysShort) {
  FieldErrors errors;
  for (int i = 0; i < 500; ++i) {
    errors.Add(absl::StrCat("items[", i, "].name"), std::string(20000, 'x'));
  }
  absl::Status status = errors.ToStatus();
  EXPECT_LE(status.message().size(), kMaxMessageBytes);
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("more"));
  EXPECT_EQ(Violations(status).size(), 500u);  // all of them inside the service
}

// Fails every call with a given status: a real server for the wire-level limits.
class FailingService final : public grpc::CallbackGenericService {
 public:
  explicit FailingService(grpc::Status status) : status_(std::move(status)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Reactor(status_);
  }

 private:
  grpc::Status status_;
};

grpc::Status CallThroughServer(const grpc::Status& answer) {
  FailingService service(answer);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  EXPECT_GT(port, 0);
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, {}, &response);
  server->Shutdown(std::chrono::system_clock::now());
  return status;
}

TEST(ErrorsTest, HugeErrorArrivesWithDecodableDetails) {
  const std::string huge_id(20000, '7');
  FieldErrors errors;
  errors.Add("customer_id", absl::StrCat("'", huge_id, "' is not a customer id"));
  for (int i = 0; i < 500; ++i) {
    errors.Add(absl::StrCat("items[", i, "].product_id"),
               absl::StrCat("unknown product ", std::string(300, 'p'), " ชื่อ"));
  }
  absl::Status status = errors.ToStatus();
  status =
      Error(status.code(), "INVALID_ARGUMENT", status.message(),
            {{"customer_id", huge_id}, {"filter", std::string(1 << 20, 'f')}}, Violations(status));
  const grpc::Status sent = ToGrpcStatus(status, "customer.kelola.id");
  EXPECT_LT(sent.error_message().size() * 3 + (sent.error_details().size() * 4 + 2) / 3, 4096u);

  const grpc::Status got = CallThroughServer(sent);
  ASSERT_EQ(got.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << got.error_message();
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(got.error_details()));
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INVALID_ARGUMENT");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(details.details(1).UnpackTo(&bad));
  ASSERT_GE(bad.field_violations_size(), 1);
  EXPECT_LE(bad.field_violations_size(), static_cast<int>(kMaxViolations));
  EXPECT_EQ(bad.field_violations(0).field(), "customer_id");
  EXPECT_EQ(std::stoi(info.metadata().at(kOmittedViolationsKey)) + bad.field_violations_size(),
            501);

  absl::Status back = FromGrpcStatus(got);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Violations(back).size(), static_cast<size_t>(bad.field_violations_size()));
}

}  // namespace
}  // namespace kelola::errors
