#include "libs/server/service_host.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

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
