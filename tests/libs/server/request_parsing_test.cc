#include "libs/server/request_parsing.h"

#include <atomic>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "libs/errors/errors.h"
#include "libs/metrics/metrics.h"
#include "libs/server/service_host.h"

namespace kelola::server {
namespace {

namespace v1 = customer::v1;

// ImportCustomers reads its stream and, after a Read() that returned false, answers what
// TakeReadParseFailure says, or (take_then_fail) takes it and then fails as a server would.
// CreateCustomer parses stored bytes that are not valid UTF-8 and answers INTERNAL.
class ParsingService final : public v1::CustomerService::Service {
 public:
  grpc::Status ImportCustomers(grpc::ServerContext* context,
                               grpc::ServerReader<v1::ImportCustomersRequest>* reader,
                               v1::ImportCustomersResponse*) override {
    v1::ImportCustomersRequest message;
    while (reader->Read(&message)) ++messages;
    if (!take) return grpc::Status(grpc::StatusCode::INTERNAL, "a server fault");
    absl::Status failure = TakeReadParseFailure(*context);
    if (take_then_fail) return grpc::Status(grpc::StatusCode::INTERNAL, "a server fault");
    return errors::ToGrpcStatus(failure, "customer.kelola.id");
  }
  grpc::Status CreateCustomer(grpc::ServerContext*, const v1::CreateCustomerRequest*,
                              v1::CreateCustomerResponse*) override {
    v1::Customer stored;
    stored.set_display_name("Bud\xC3(i");  // corrupt stored data
    v1::Customer parsed;
    if (parsed.ParseFromString(stored.SerializeAsString())) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::INTERNAL, "details in the server's log");
  }
  std::atomic<bool> take{true};
  std::atomic<bool> take_then_fail{false};
  std::atomic<int> messages{0};
};

class RequestParsingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.service_name = "customer-svc";
    options.listen = {"127.0.0.1", 0};
    auto host = ServiceHost::Start(options, &registry_, {&service_}, nullptr);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
    stub_ = v1::CustomerService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->port()), grpc::InsecureChannelCredentials()));
  }

  // A stream of a header, a chunk, a header whose file name is not UTF-8, and a chunk.
  grpc::Status ImportWithABadSecondHeader() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ImportCustomersResponse response;
    auto stream = stub_->ImportCustomers(&context, &response);
    v1::ImportCustomersRequest message;
    message.mutable_header()->set_file_name("pelanggan.csv");
    stream->Write(message);
    message.set_chunk("Nama\nAni\n");
    stream->Write(message);
    message.mutable_header()->set_file_name("pelanggan\xFF.csv");
    stream->Write(message);
    message.set_chunk("Budi\n");
    stream->Write(message);
    stream->WritesDone();
    return stream->Finish();
  }

  metrics::Registry registry_;
  ParsingService service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::CustomerService::Stub> stub_;
};

TEST_F(RequestParsingServerTest, AClientStreamHandlerLearnsOfAnUnparsableMessage) {
  const grpc::Status status = ImportWithABadSecondHeader();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const absl::Status decoded = errors::FromGrpcStatus(status);
  EXPECT_EQ(errors::Reason(decoded), "INVALID_UTF8");
  ASSERT_EQ(errors::Violations(decoded).size(), 1u);
  EXPECT_EQ(errors::Violations(decoded)[0].field, "header.file_name");
  EXPECT_EQ(service_.messages, 2);  // the stream "ended" at the bad message
}

TEST_F(RequestParsingServerTest, AFailureTheHandlerTookIsNotBlamedOnTheCallerLater) {
  service_.take_then_fail = true;
  EXPECT_EQ(ImportWithABadSecondHeader().error_code(), grpc::StatusCode::INTERNAL);
  // A handler that did not take it still has its INTERNAL rewritten.
  service_.take_then_fail = false;
  service_.take = false;
  const grpc::Status untaken = ImportWithABadSecondHeader();
  EXPECT_EQ(untaken.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(errors::FromGrpcStatus(untaken)), "INVALID_UTF8");
}

TEST_F(RequestParsingServerTest, StoredDataThatDoesNotParseIsLoggedAsAnError) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::CreateCustomerResponse response;
  ::testing::internal::CaptureStderr();
  const grpc::Status status =
      stub_->CreateCustomer(&context, v1::CreateCustomerRequest(), &response);
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);  // the server's fault
  EXPECT_NE(logged.find("String field 'kelola.customer.v1.Customer.display_name' contains invalid "
                        "UTF-8 data when parsing"),
            std::string::npos)
      << logged;
}

TEST(RequestFieldPathTest, NamesTheFieldByItsRequestPath) {
  // Linked in, as in the services that serve them.
  ASSERT_NE(customer::v1::CreateCustomerRequest::descriptor(), nullptr);
  ASSERT_NE(ledger::v1::RecordSaleRequest::descriptor(), nullptr);
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.customer.v1.Customer.display_name"),
            "customer.display_name");
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.customer.v1.CreateCustomerRequest.request_id"),
            "request_id");
  // Repeated fields are named without an index.
  EXPECT_EQ(RequestFieldPath("/kelola.ledger.v1.LedgerService/RecordSale",
                             "kelola.ledger.v1.SaleItem.name"),
            "items.name");
}

TEST(RequestFieldPathTest, FallsBackToTheQualifiedName) {
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.ledger.v1.SaleItem.name"),
            "kelola.ledger.v1.SaleItem.name");
  EXPECT_EQ(RequestFieldPath("/no.such.Service/Method", "a.B.c"), "a.B.c");
  EXPECT_EQ(RequestFieldPath("garbage", "a.B.c"), "a.B.c");
}

TEST(ErrorDomainTest, FollowsTheServiceName) {
  EXPECT_EQ(ErrorDomainOf("customer-svc"), "customer.kelola.id");
  EXPECT_EQ(ErrorDomainOf("ledger-svc"), "ledger.kelola.id");
  EXPECT_EQ(ErrorDomainOf("gateway"), "gateway.kelola.id");
  EXPECT_EQ(ErrorDomainOf(""), "kelola.id");
}

}  // namespace
}  // namespace kelola::server
