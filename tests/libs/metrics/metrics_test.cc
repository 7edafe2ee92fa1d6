#include "libs/metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/metrics/http_endpoint.h"

namespace kelola::metrics {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, RendersCountersGaugesAndHistograms) {
  Registry registry;
  registry.DeclareCounter("calls_total", "Calls.");
  registry.DeclareGauge("ready", "Readiness.");
  registry.DeclareHistogram("latency_seconds", "Latency.", {0.01, 0.1});
  registry.Increment("calls_total", {{"method", "/a.B/C"}, {"code", "OK"}});
  registry.Increment("calls_total", {{"method", "/a.B/C"}, {"code", "OK"}}, 2);
  registry.Set("ready", {}, 1);
  registry.Observe("latency_seconds", {{"method", "m"}}, 0.005);
  registry.Observe("latency_seconds", {{"method", "m"}}, 0.05);
  registry.Observe("latency_seconds", {{"method", "m"}}, 3);
  registry.Increment("undeclared_total", {});

  EXPECT_EQ(registry.Value("calls_total", {{"method", "/a.B/C"}, {"code", "OK"}}), 3);
  EXPECT_EQ(registry.Count("latency_seconds", {{"method", "m"}}), 3u);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE calls_total counter\n"));
  EXPECT_THAT(text, HasSubstr("calls_total{method=\"/a.B/C\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("ready 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"m\",le=\"0.01\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"m\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"m\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count{method=\"m\"} 3\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("undeclared_total")));
}

TEST(RegistryTest, EscapesLabelValues) {
  Registry registry;
  registry.DeclareCounter("c", "C.");
  registry.Increment("c", {{"v", "a\"b\\c"}});
  EXPECT_THAT(registry.Render(), HasSubstr("c{v=\"a\\\"b\\\\c\"} 1"));
}

std::string Get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
  ::send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
  ::close(fd);
  return response;
}

TEST(HttpEndpointTest, ServesMetricsAndHealth) {
  Registry registry;
  registry.DeclareCounter("hits_total", "Hits.");
  registry.Increment("hits_total", {});
  std::atomic<bool> ready{true};
  auto endpoint = HttpEndpoint::Start("127.0.0.1", 0, &registry, [&] { return ready.load(); });
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  const int port = (*endpoint)->port();
  ASSERT_GT(port, 0);

  EXPECT_THAT(Get(port, "/metrics"), HasSubstr("hits_total 1"));
  EXPECT_THAT(Get(port, "/healthz"), HasSubstr("HTTP/1.0 200 OK"));
  ready = false;
  EXPECT_THAT(Get(port, "/healthz"), HasSubstr("503"));
  EXPECT_THAT(Get(port, "/nothing"), HasSubstr("404"));

  auto second = HttpEndpoint::Start("127.0.0.1", port, &registry, nullptr);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  (*endpoint)->Stop();
}

}  // namespace
}  // namespace kelola::metrics
