#include "libs/server/service_host.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::server {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class ServiceHostTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServiceHost> StartHost(absl::Duration grace = absl::Seconds(1)) {
    ServerOptions options;
    options.service_name = "test-svc";
    options.listen = {"127.0.0.1", 0};
    options.metrics_listen = config::HostPort{"127.0.0.1", 0};
    options.readiness_interval = absl::Milliseconds(20);
    options.shutdown_grace = grace;
    auto host = ServiceHost::Start(options, &registry_, {}, [this]() -> absl::Status {
      return ready_ ? absl::OkStatus() : absl::UnavailableError("database down");
    });
    EXPECT_TRUE(host.ok()) << host.status();
    return host.ok() ? *std::move(host) : nullptr;
  }

  std::unique_ptr<Health::Stub> Stub(int port) {
    return Health::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                               grpc::InsecureChannelCredentials()));
  }

  HealthCheckResponse::ServingStatus Check(Health::Stub& stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    HealthCheckResponse response;
    grpc::Status status = stub.Check(&context, HealthCheckRequest(), &response);
    return status.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
  }

  metrics::Registry registry_;
  std::atomic<bool> ready_{true};
};

// CreateCustomer answers OK and counts its calls; the test sends it raw bytes.
class CountingCustomerService final : public customer::v1::CustomerService::Service {
 public:
  grpc::Status CreateCustomer(grpc::ServerContext*, const customer::v1::CreateCustomerRequest*,
                              customer::v1::CreateCustomerResponse*) override {
    ++calls;
    return grpc::Status::OK;
  }
  // Answers what ReadRequestContext makes of the call's metadata.
  grpc::Status GetCustomer(grpc::ServerContext* context, const customer::v1::GetCustomerRequest*,
                           customer::v1::GetCustomerResponse*) override {
    auto rc = ReadRequestContext(*context);
    return rc.ok() ? grpc::Status::OK : errors::ToGrpcStatus(rc.status(), "customer.kelola.id");
  }
  std::atomic<int> calls{0};
};

// A length-delimited field: tag (field number < 16, wire type 2), length (< 128), bytes.
std::string Field(int number, const std::string& bytes) {
  return std::string(1, static_cast<char>(number << 3 | 2)) +
         std::string(1, static_cast<char>(bytes.size())) + bytes;
}

grpc::Status CallRaw(int port, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

constexpr char kCreateCustomer[] = "/kelola.customer.v1.CustomerService/CreateCustomer";

TEST_F(ServiceHostTest, InvalidUtf8IsTheCallersFaultAndNamesTheField) {
  CountingCustomerService service;
  ServerOptions options;
  options.service_name = "customer-svc";
  auto host = ServiceHost::Start(options, &registry_, {&service}, nullptr);
  ASSERT_TRUE(host.ok()) << host.status();
  const int port = (*host)->port();

  struct Case {
    std::string bytes;
    std::string field;
  };
  const std::string bad = "Bud\xC3(i";  // a cut two-byte sequence
  for (const Case& c : std::vector<Case>{
           {Field(1, Field(2, bad)), "customer.display_name"},
           {Field(3, bad), "request_id"},
           {Field(1, Field(2, "Budi")) + Field(3, "\xFF\xFE"), "request_id"},
       }) {
    const grpc::Status status = CallRaw(port, kCreateCustomer, c.bytes);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.field << ": " << status.error_message();
    const absl::Status decoded = errors::FromGrpcStatus(status);
    EXPECT_EQ(errors::Reason(decoded), "INVALID_UTF8");
    ASSERT_EQ(errors::Violations(decoded).size(), 1u);
    EXPECT_EQ(errors::Violations(decoded)[0].field, c.field);
    google::rpc::Status details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    google::rpc::ErrorInfo info;
    ASSERT_TRUE(details.details(0).UnpackTo(&info));
    EXPECT_EQ(info.domain(), "customer.kelola.id");
  }
  EXPECT_EQ(service.calls, 0);
  EXPECT_GE(registry_.Value("kelola_grpc_server_handled_total",
                            {{"method", kCreateCustomer}, {"code", "INVALID_ARGUMENT"}}),
            3);
  EXPECT_EQ(registry_.Value("kelola_grpc_server_handled_total",
                            {{"method", kCreateCustomer}, {"code", "INTERNAL"}}),
            0);

  // Bytes that are not a protobuf message at all: the caller's fault too.
  const grpc::Status garbage = CallRaw(port, kCreateCustomer, "\x0A\x7F\x01");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << garbage.error_message();
  EXPECT_EQ(errors::Reason(errors::FromGrpcStatus(garbage)), "INVALID_ARGUMENT");

  // A valid request still reaches the handler.
  EXPECT_TRUE(CallRaw(port, kCreateCustomer, Field(1, Field(2, "Budi ✓"))).ok());
  EXPECT_EQ(service.calls, 1);
}

TEST_F(ServiceHostTest, RequestIdHeaderFollowsTheRequestIdRule) {
  CountingCustomerService service;
  ServerOptions options;
  options.service_name = "customer-svc";
  auto host = ServiceHost::Start(options, &registry_, {&service}, nullptr);
  ASSERT_TRUE(host.ok()) << host.status();
  auto stub = customer::v1::CustomerService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*host)->port()), grpc::InsecureChannelCredentials()));
  auto call = [&](const std::string& request_id) {
    grpc::ClientContext context;
    context.AddMetadata("x-kelola-tenant", "t1");
    if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
    customer::v1::GetCustomerResponse response;
    return stub->GetCustomer(&context, customer::v1::GetCustomerRequest(), &response);
  };
  EXPECT_TRUE(call("").ok());
  EXPECT_TRUE(call("3f2b8c1e-2d7a-4e0b-9c55-0c1f2a3b4c5d").ok());
  for (const std::string& bad : {std::string(101, 'r'), std::string("a b")}) {
    const grpc::Status status = call(bad);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    const auto violations = errors::Violations(errors::FromGrpcStatus(status));
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, "x-request-id");
  }
}

TEST_F(ServiceHostTest, HealthFollowsReadiness) {
  auto host = StartHost();
  ASSERT_NE(host, nullptr);
  ASSERT_GT(host->port(), 0);
  ASSERT_GT(host->metrics_port(), 0);
  auto stub = Stub(host->port());
  EXPECT_EQ(Check(*stub), HealthCheckResponse::SERVING);

  ready_ = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (Check(*stub) != HealthCheckResponse::NOT_SERVING && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Check(*stub), HealthCheckResponse::NOT_SERVING);
  EXPECT_FALSE(host->ready());
  EXPECT_EQ(registry_.Value("kelola_ready", {}), 0);

  ready_ = true;
  while (Check(*stub) != HealthCheckResponse::SERVING && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(Check(*stub), HealthCheckResponse::SERVING);
}

TEST_F(ServiceHostTest, CountsCallsByMethodAndCode) {
  auto host = StartHost();
  ASSERT_NE(host, nullptr);
  auto stub = Stub(host->port());
  Check(*stub);
  Check(*stub);
  EXPECT_GE(registry_.Value("kelola_grpc_server_handled_total",
                            {{"method", "/grpc.health.v1.Health/Check"}, {"code", "OK"}}),
            2);
  EXPECT_GE(registry_.Count("kelola_grpc_server_handling_seconds",
                            {{"method", "/grpc.health.v1.Health/Check"}}),
            2u);
}

TEST_F(ServiceHostTest, PortInUseIsAClearError) {
  auto host = StartHost();
  ASSERT_NE(host, nullptr);
  ServerOptions options;
  options.service_name = "second";
  options.listen = {"127.0.0.1", host->port()};
  metrics::Registry registry;
  auto second = ServiceHost::Start(options, &registry, {}, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(second.status().message()).find(std::to_string(host->port())),
            std::string::npos);
}

TEST_F(ServiceHostTest, ShutdownEndsStreamsWithinTheGrace) {
  auto host = StartHost(absl::Milliseconds(300));
  ASSERT_NE(host, nullptr);
  auto stub = Stub(host->port());
  grpc::ClientContext context;
  auto watch = stub->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::atomic<bool> hook_ran{false};
  host->OnShutdown([&] { hook_ran = true; });
  const absl::Time start = absl::Now();
  std::thread stopper([&] { host->Shutdown(); });
  // The watcher is told NOT_SERVING before the server goes away.
  bool saw_not_serving = false;
  while (watch->Read(&response)) {
    if (response.status() == HealthCheckResponse::NOT_SERVING) saw_not_serving = true;
  }
  watch->Finish();
  stopper.join();
  EXPECT_TRUE(saw_not_serving);
  EXPECT_TRUE(hook_ran);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  host->Shutdown();  // idempotent
}

}  // namespace
}  // namespace kelola::server
