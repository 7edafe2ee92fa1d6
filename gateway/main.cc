// gateway: the one public endpoint. main() only assembles the object graph.

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "gateway/api/customer_profile.h"
#include "gateway/api/gateway_service.h"
#include "gateway/api/ledger_writes.h"
#include "gateway/api/summary_cards.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/gatekeeper.h"
#include "gateway/auth/watched_file.h"
#include "gateway/backends/backend_call.h"
#include "gateway/backends/backend_health.h"
#include "gateway/backends/suite_stub.h"
#include "gateway/cache/card_cache.h"
#include "gateway/cache/card_invalidator.h"
#include "gateway/cache/rate_limiter.h"
#include "gateway/proxy/forwarding_service.h"
#include "google/protobuf/descriptor.h"
#include "kelola/customer/v1/category_service.grpc.pb.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "kelola/gateway/v1/gateway_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/auth/internal_credential.h"
#include "libs/auth/jwks.h"
#include "libs/cache/redis_client.h"
#include "libs/cache/redis_pool.h"
#include "libs/config/config.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, customer, "", "customer-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, ledger, "", "ledger-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, report, "", "report-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, redis, "", "summary-card cache and rate limits: redis://HOST:PORT[/DB]");
ABSL_FLAG(std::string, api_keys_file, "",
          "API keys, one JSON object per line (docs/authentication.md); re-read when it "
          "changes");
ABSL_FLAG(std::string, jwt_jwks_file, "",
          "JWKS of the identity provider whose tokens are accepted (RS256, ES256); re-read "
          "when it changes");
ABSL_FLAG(std::string, jwt_issuer, "", "the iss every accepted token must carry");
ABSL_FLAG(std::string, jwt_audience, "", "the aud every accepted token must carry");
ABSL_FLAG(double, rate_limit_per_second, 200,
          "requests per second each tenant may make, shared by all gateway replicas");
ABSL_FLAG(int64_t, rate_limit_burst, 400, "requests a tenant may make at once above the rate");
ABSL_FLAG(int, redis_connections, 16, "connections to Redis");
ABSL_FLAG(absl::Duration, redis_timeout, absl::Milliseconds(50),
          "longest wait for Redis before the cache is bypassed");
ABSL_FLAG(absl::Duration, default_deadline, absl::Seconds(30),
          "deadline of backend calls when the caller sets none");
ABSL_FLAG(absl::Duration, default_stream_deadline, absl::Minutes(10),
          "deadline of streamed backend calls (exports, imports) when the caller sets none");

namespace {

using kelola::config::Die;

// The service `name` of the contract file that defines `message` (naming a message links
// the file's descriptors in).
const google::protobuf::ServiceDescriptor& ServiceOf(const google::protobuf::Descriptor* message,
                                                     const std::string& name) {
  const auto* service = message->file()->FindServiceByName(name);
  if (service == nullptr) Die("services", absl::InternalError(name + " is not in its file"));
  return *service;
}

constexpr absl::Duration kReloadCheck = absl::Seconds(1);

}  // namespace

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  auto options = kelola::server::InitService(
      argc, argv, "gateway",
      "gateway --customer=ADDR --ledger=ADDR --report=ADDR --redis=redis://HOST:PORT "
      "--internal_key_file=PATH --api_keys_file=PATH|--jwt_jwks_file=PATH [flags]",
      {.issues_page_tokens = false, .public_endpoint = true});
  const kelola::Clock& clock = kelola::RealClock::Get();
  auto customer = kelola::server::PeerChannelOrDie("--customer", absl::GetFlag(FLAGS_customer));
  auto ledger = kelola::server::PeerChannelOrDie("--ledger", absl::GetFlag(FLAGS_ledger));
  auto report = kelola::server::PeerChannelOrDie("--report", absl::GetFlag(FLAGS_report));
  auto redis_options = kelola::cache::ParseRedisUrl(absl::GetFlag(FLAGS_redis));
  if (!redis_options.ok()) Die("--redis", redis_options.status());
  const std::string internal_key = kelola::server::InternalKeyOrDie();
  if (internal_key.empty()) {
    Die("--internal_key_file",
        absl::InvalidArgumentError("the gateway signs every backend call with it: required"));
  }

  // Credentials the gateway accepts.
  std::unique_ptr<kelola::gateway::WatchedFile<kelola::gateway::ApiKeys>> api_keys;
  if (!absl::GetFlag(FLAGS_api_keys_file).empty()) {
    auto opened = kelola::gateway::WatchedFile<kelola::gateway::ApiKeys>::Open(
        absl::GetFlag(FLAGS_api_keys_file), &kelola::gateway::ApiKeys::Load, clock, kReloadCheck);
    if (!opened.ok()) Die("--api_keys_file", opened.status());
    api_keys = *std::move(opened);
  }
  std::unique_ptr<kelola::gateway::WatchedFile<kelola::auth::Jwks>> jwks;
  kelola::auth::JwtSettings jwt{absl::GetFlag(FLAGS_jwt_issuer), absl::GetFlag(FLAGS_jwt_audience)};
  if (!absl::GetFlag(FLAGS_jwt_jwks_file).empty()) {
    if (jwt.issuer.empty()) Die("--jwt_issuer", absl::InvalidArgumentError("required with a JWKS"));
    if (jwt.audience.empty()) {
      Die("--jwt_audience", absl::InvalidArgumentError("required with a JWKS"));
    }
    auto opened = kelola::gateway::WatchedFile<kelola::auth::Jwks>::Open(
        absl::GetFlag(FLAGS_jwt_jwks_file), &kelola::auth::LoadJwksFile, clock, kReloadCheck);
    if (!opened.ok()) Die("--jwt_jwks_file", opened.status());
    jwks = *std::move(opened);
  }
  if (api_keys == nullptr && jwks == nullptr) {
    Die("--api_keys_file",
        absl::InvalidArgumentError("no credential would be accepted: give --api_keys_file and/or "
                                   "--jwt_jwks_file"));
  }
  kelola::metrics::Registry registry;
  registry.DeclareGauge("kelola_dependency_up", "1 when an optional dependency answers, else 0.");
  registry.DeclareCounter("kelola_gateway_rate_limited_total",
                          "Calls refused by a tenant's rate limit.");
  registry.DeclareGauge("kelola_gateway_redis_bypassed",
                        "Redis calls skipped while its circuit breaker was open (total).");

  // Redis: the card cache and the shared rate limits; the breaker bypasses it when down.
  kelola::cache::RedisPoolOptions pool_options;
  pool_options.server = *redis_options;
  pool_options.connections = absl::GetFlag(FLAGS_redis_connections);
  pool_options.command_timeout = absl::GetFlag(FLAGS_redis_timeout);
  pool_options.clock = &clock;
  kelola::cache::RedisPool redis(pool_options);
  kelola::gateway::CardCache card_cache(redis);
  kelola::gateway::RateLimiterOptions limits;
  limits.limit.per_second = absl::GetFlag(FLAGS_rate_limit_per_second);
  limits.limit.burst = absl::GetFlag(FLAGS_rate_limit_burst);
  if (limits.limit.per_second <= 0 || limits.limit.burst < 1) {
    Die("--rate_limit_per_second", absl::InvalidArgumentError("rate and burst must be positive"));
  }
  kelola::gateway::RateLimiter rate_limiter(redis, limits, clock);

  kelola::gateway::Authenticator authenticator(api_keys.get(), jwks.get(), jwt, clock);
  kelola::gateway::Gatekeeper gatekeeper(
      authenticator, [&](const std::string& tenant) -> absl::Status {
        const kelola::gateway::RateDecision decision = rate_limiter.Admit(tenant);
        if (decision.allowed) return absl::OkStatus();
        registry.Increment("kelola_gateway_rate_limited_total", {});
        return kelola::gateway::RateLimitedError(decision);
      });

  // Calls to the backends.
  kelola::auth::CredentialSigner signer(internal_key, "gateway", clock);
  kelola::gateway::BackendCallPreparer preparer(signer, absl::GetFlag(FLAGS_default_deadline),
                                                absl::GetFlag(FLAGS_default_stream_deadline));
  grpc::GenericStub customer_bytes(customer);
  grpc::GenericStub ledger_bytes(ledger);
  grpc::GenericStub report_bytes(report);
  kelola::gateway::Admission admit = [&](grpc::CallbackServerContext& context,
                                         const kelola::gateway::Route& route) {
    return gatekeeper.Admit(context, route.method);
  };
  auto forward = [&](const google::protobuf::ServiceDescriptor& service, const char* backend,
                     grpc::GenericStub* stub) {
    return std::make_unique<kelola::gateway::ForwardingService>(
        service, backend, stub, &admit, &preparer, options.max_message_bytes);
  };
  namespace cv1 = kelola::customer::v1;
  auto customers = forward(ServiceOf(cv1::CreateCustomerRequest::descriptor(), "CustomerService"),
                           "customer-svc", &customer_bytes);
  auto categories = forward(ServiceOf(cv1::CreateCategoryRequest::descriptor(), "CategoryService"),
                            "customer-svc", &customer_bytes);
  auto tenants = forward(ServiceOf(cv1::GetTenantSettingsRequest::descriptor(), "TenantService"),
                         "customer-svc", &customer_bytes);
  auto ledgers =
      forward(ServiceOf(kelola::ledger::v1::RecordSaleRequest::descriptor(), "LedgerService"),
              "ledger-svc", &ledger_bytes);

  // The gateway's own RPCs: the cards through the cache, the profile, WhoAmI.
  kelola::gateway::LoggingSuiteStub suite(
      std::make_shared<kelola::gateway::GrpcSuiteStub>(customer, ledger, report));
  kelola::gateway::CachedCards cards(card_cache, suite, preparer, registry);
  kelola::gateway::SummaryCardHandlers card_handlers(gatekeeper, cards);
  auto reports = std::make_unique<kelola::gateway::ForwardingService>(
      ServiceOf(kelola::report::v1::GetSummaryCardRequest::descriptor(), "ReportService"),
      "report-svc", &report_bytes, &admit, &preparer, options.max_message_bytes,
      absl::flat_hash_map<std::string, grpc::internal::MethodHandler*>{
          {"/kelola.report.v1.ReportService/GetSummaryCard",
           card_handlers.NewGetSummaryCardHandler()},
          {"/kelola.report.v1.ReportService/BatchGetSummaryCards",
           card_handlers.NewBatchGetSummaryCardsHandler()}});
  kelola::gateway::ObserveLedgerWrites(*ledgers, card_cache);
  // gRPC accepts up to four times the limit, so that the gateway itself refuses what is
  // over it with a reason (MESSAGE_TOO_LARGE); beyond that gRPC refuses it, reasonless.
  options.max_receive_message_bytes = 4 * options.max_message_bytes;
  options.check_requests = false;  // bytes are forwarded; each backend checks its requests
  kelola::gateway::NotExposedService not_exposed;
  options.generic_service = &not_exposed;
  kelola::gateway::CustomerProfiles profiles(suite, cards, preparer);
  kelola::gateway::GatewayServiceImpl gateway_service(gatekeeper, profiles);

  kelola::gateway::CardInvalidatorOptions invalidation;
  invalidation.internal_key = internal_key;
  kelola::gateway::CardInvalidator invalidator(ledger, card_cache, redis, invalidation);
  invalidator.Start();

  kelola::gateway::BackendHealth backends(
      {{"customer-svc", customer}, {"ledger-svc", ledger}, {"report-svc", report}});

  return kelola::server::ServeUntilSignal(
      options, &registry,
      {&gateway_service, customers.get(), categories.get(), tenants.get(), ledgers.get(),
       reports.get()},
      [&] {
        registry.Set("kelola_dependency_up", {{"dependency", "redis"}}, redis.open() ? 0 : 1);
        registry.Set("kelola_gateway_redis_bypassed", {}, redis.bypassed());
        return backends.Check();
      },
      {[&] { invalidator.Stop(); }});
}
