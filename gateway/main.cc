// gateway: the one public endpoint. main() only assembles the object graph.

#include "absl/flags/flag.h"
#include "gateway/backends/backend_health.h"
#include "kelola/gateway/v1/gateway_service.grpc.pb.h"
#include "libs/cache/redis_client.h"
#include "libs/config/config.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, customer, "", "customer-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, ledger, "", "ledger-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, report, "", "report-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, redis, "", "summary-card cache: redis://HOST:PORT[/DB]");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(
      argc, argv, "gateway",
      "gateway --customer=ADDR --ledger=ADDR --report=ADDR --redis=redis://HOST:PORT [flags]",
      /*issues_page_tokens=*/false);
  auto customer = kelola::server::PeerChannelOrDie("--customer", absl::GetFlag(FLAGS_customer));
  auto ledger = kelola::server::PeerChannelOrDie("--ledger", absl::GetFlag(FLAGS_ledger));
  auto report = kelola::server::PeerChannelOrDie("--report", absl::GetFlag(FLAGS_report));
  auto redis_options = kelola::cache::ParseRedisUrl(absl::GetFlag(FLAGS_redis));
  if (!redis_options.ok()) kelola::config::Die("--redis", redis_options.status());

  kelola::metrics::Registry registry;
  registry.DeclareGauge("kelola_dependency_up", "1 when an optional dependency answers, else 0.");
  kelola::cache::RedisClient redis(*redis_options);
  kelola::gateway::BackendHealth backends(
      {{"customer-svc", customer}, {"ledger-svc", ledger}, {"report-svc", report}});
  // The aggregates: answered UNIMPLEMENTED by the generated base until they land.
  kelola::gateway::v1::GatewayService::Service gateway_service;

  return kelola::server::ServeUntilSignal(options, &registry, {&gateway_service}, [&] {
    registry.Set("kelola_dependency_up", {{"dependency", "redis"}}, redis.Ping().ok() ? 1 : 0);
    return backends.Check();
  });
}
