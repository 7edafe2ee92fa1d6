// The gateway's overhead (issue 11, Performance), through real processes on loopback:
// Redis, customer-svc, ledger-svc, report-svc and one gateway (libs/testing/cluster.h),
// and, in the same run, a null RPC server as the ceiling (bench/harness/null_rpc_server.h).
//
//   - a cached GetSummaryCard through the gateway (API key, then JWT) against the null RPC,
//     both at 64 outstanding calls (and 1, for the floor);
//   - a forwarded GetCustomer through the gateway against the same call made directly to
//     customer-svc with a signed internal credential, at 1 and 64 outstanding calls;
//   - in-process: what authenticating one call costs (API key, JWT first and cached),
//     signing and verifying the internal credential, and the cached card path's Redis work
//     alone (rate-limit script + card lookup script) through the gateway's own classes.
//
// One client for every target: gRPC's callback API, closed loop (bench/harness/closed_loop.h).
// Cases run in rounds (each case once per round) so that drift on a shared machine spreads
// over all of them; the figures are medians over the rounds.
//
//   scripts/bench gateway
//   build/bench/gateway_bench --root=. [--seconds=10 --warmup=2 --repeats=3 --only=LABEL]

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/harness/closed_loop.h"
#include "bench/harness/latency.h"
#include "bench/harness/micro_loop.h"
#include "bench/harness/null_rpc_server.h"
#include "bench/harness/process_cpu.h"
#include "bench/harness/report.h"
#include "gateway/auth/api_keys.h"
#include "gateway/auth/authenticator.h"
#include "gateway/auth/watched_file.h"
#include "gateway/cache/card_cache.h"
#include "gateway/cache/rate_limiter.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/auth/internal_credential.h"
#include "libs/auth/jwt_verifier.h"
#include "libs/cache/redis_client.h"
#include "libs/cache/redis_pool.h"
#include "libs/clock/clock.h"
#include "libs/crypto/hmac.h"
#include "libs/errors/errors.h"
#include "libs/testing/cluster.h"
#include "tests/libs/auth/test_keys.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(int, seconds, 10, "measured seconds per case and round");
ABSL_FLAG(int, warmup, 2, "warm-up seconds before each measurement");
ABSL_FLAG(int, repeats, 3, "rounds; figures are medians over them");
ABSL_FLAG(int, outstanding, 64, "calls in flight for the throughput cases");
ABSL_FLAG(std::string, client, "callback",
          "load client: callback (closed loop on gRPC's callback API) or threads (one "
          "blocking call per thread)");
ABSL_FLAG(bool, keep_dir, false, "keep the cluster's directory (logs, databases) and print it");
ABSL_FLAG(std::string, only, "",
          "diagnosis: run only the cases whose label contains this, and write no report");
ABSL_FLAG(int, null_rpc_port, 0, "internal: serve the null RPC on this port and nothing else");
ABSL_FLAG(std::string, null_rpc_card, "", "internal: the card the null RPC answers");
ABSL_FLAG(int, null_rpc_threads, 256, "internal: the null RPC server's thread limit");

namespace kelola::bench {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;

constexpr char kTenant[] = "bench";
constexpr char kApiKey[] = "kelola-bench-owner-key-0001";
constexpr char kIssuer[] = "https://id.bench.kelola.test";
constexpr char kAudience[] = "kelola-gateway";
constexpr char kKid[] = "bench-rsa";
constexpr absl::Duration kCallTimeout = absl::Seconds(10);

auth::Principal Owner() {
  auth::Principal owner;
  owner.id = "bench-owner";
  owner.kind = auth::PrincipalKind::kApiKey;
  owner.tenant_id = kTenant;
  owner.roles = {auth::Role::kOwner};
  return owner;
}

// An RS256 token of the owner, valid for an hour; `jti` makes each one distinct.
std::string OwnerToken(int64_t jti) {
  const int64_t exp = absl::ToUnixSeconds(absl::Now() + absl::Hours(1));
  return auth::test_keys::SignToken(
      absl::StrCat(R"({"alg":"RS256","typ":"JWT","kid":")", kKid, R"("})"),
      absl::StrFormat(R"({"sub":"bench-user","tenant":"%s","roles":["owner"],"iss":"%s",)"
                      R"("aud":"%s","exp":%d,"jti":"%d"})",
                      kTenant, kIssuer, kAudience, exp, jti),
      auth::test_keys::SharedRsaKey());
}

std::string Jwks() {
  return auth::test_keys::JwksOf({auth::test_keys::RsaJwk(auth::test_keys::SharedRsaKey(), kKid)});
}

// ---------------------------------------------------------------------------------------
// Calls

std::unique_ptr<grpc::ClientContext> PlainContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  return context;
}

ContextFactory WithHeader(std::string key, std::string value) {
  return [key = std::move(key), value = std::move(value)] {
    auto context = PlainContext();
    context->AddMetadata(key, value);
    return context;
  };
}

template <typename Request, typename Response>
AsyncCall Unary(ContextFactory contexts, Request request, StartFn<Request, Response> start) {
  return UnaryCall<Request, Response>(
      std::move(contexts), [request = std::move(request)] { return request; }, std::move(start));
}

AsyncCall CardCall(std::shared_ptr<grpc::Channel> channel, ContextFactory contexts,
                   const std::string& customer_id) {
  std::shared_ptr<rv1::ReportService::Stub> stub = rv1::ReportService::NewStub(channel);
  rv1::GetSummaryCardRequest request;
  request.set_customer_id(customer_id);
  return Unary<rv1::GetSummaryCardRequest, rv1::GetSummaryCardResponse>(
      std::move(contexts), request, [stub](auto* c, auto* q, auto* r, auto done) {
        stub->async()->GetSummaryCard(c, q, r, std::move(done));
      });
}

AsyncCall CustomerCall(std::shared_ptr<grpc::Channel> channel, ContextFactory contexts,
                       const std::string& customer_id) {
  std::shared_ptr<cv1::CustomerService::Stub> stub = cv1::CustomerService::NewStub(channel);
  cv1::GetCustomerRequest request;
  request.set_customer_id(customer_id);
  return Unary<cv1::GetCustomerRequest, cv1::GetCustomerResponse>(
      std::move(contexts), request, [stub](auto* c, auto* q, auto* r, auto done) {
        stub->async()->GetCustomer(c, q, r, std::move(done));
      });
}

// The same calls made blocking from one thread per outstanding call (--client=threads).
LoadResult RunThreads(const ClosedLoopOptions& options, const AsyncCall& call) {
  const IndexedAsyncCall indexed = [&](int64_t, std::function<void(absl::Status)> done) {
    call(std::move(done));
  };
  auto blocking = [&](int, int64_t) { return CallAndWait(indexed, 0); };
  (void)RunClients(options.outstanding, int64_t{1} << 40, options.warmup, blocking);
  return RunClients(options.outstanding, int64_t{1} << 40, options.duration, blocking);
}

// ---------------------------------------------------------------------------------------
// The suite and its data

struct Suite {
  std::unique_ptr<testing::Cluster> cluster;
  std::string customer_id;
  rv1::SummaryCard card;  // as the gateway serves it from its cache
  std::shared_ptr<grpc::Channel> gateway;
  std::shared_ptr<grpc::Channel> customer;
};

absl::StatusOr<Suite> StartSuite() {
  testing::ClusterOptions options;
  options.dir_prefix = "kelola-bench-gateway";
  options.api_keys = {{kApiKey, "bench-owner", kTenant, {"owner"}, {}}};
  options.jwks_json = Jwks();
  options.jwt_issuer = kIssuer;
  options.jwt_audience = kAudience;
  // The limiter still runs its Redis script on every call; it must just never refuse one.
  options.gateway_args = {"--rate_limit_per_second=1000000000", "--rate_limit_burst=1000000000"};
  auto cluster = testing::Cluster::Start(std::move(options));
  if (!cluster.ok()) return cluster.status();
  Suite suite;
  suite.cluster = *std::move(cluster);
  suite.gateway = suite.cluster->Channel(*suite.cluster->gateways[0]);
  suite.customer = suite.cluster->Channel(*suite.cluster->customer);
  return suite;
}

// One customer with one sale, and its card in the gateway's cache: the first read (with
// the sale's ledger version, so report-svc has projected it) fills it, the second must hit.
absl::Status Seed(Suite& suite) {
  ContextFactory keyed = WithHeader(gateway::kApiKeyHeader, kApiKey);
  auto customers = cv1::CustomerService::NewStub(suite.gateway);
  cv1::CreateCustomerRequest create;
  create.mutable_customer()->set_display_name("Ibu Sari Wulandari");
  create.mutable_customer()->mutable_phone()->set_raw("0812-3456-7890");
  cv1::CreateCustomerResponse created;
  if (auto s = customers->CreateCustomer(keyed().get(), create, &created); !s.ok()) {
    return errors::FromGrpcStatus(s);
  }
  suite.customer_id = created.customer().customer_id();

  lv1::RecordSaleRequest sale;
  sale.set_request_id("bench-sale-1");
  sale.set_customer_id(suite.customer_id);
  sale.set_store_id("store-1");
  auto* item = sale.add_items();
  item->set_sku("BERAS-5KG");
  item->set_name("Beras Pandan Wangi 5 kg");
  item->set_quantity_milli(1000);
  item->mutable_unit_price()->set_amount_minor(7500000);
  item->mutable_unit_price()->set_currency_code("IDR");
  *sale.mutable_total() = item->unit_price();
  *sale.mutable_amount_paid_now() = item->unit_price();
  sale.set_payment_method(lv1::PAYMENT_METHOD_CASH);
  lv1::RecordSaleResponse recorded;
  auto ledger = lv1::LedgerService::NewStub(suite.gateway);
  if (auto s = ledger->RecordSale(keyed().get(), sale, &recorded); !s.ok()) {
    return errors::FromGrpcStatus(s);
  }

  auto reports = rv1::ReportService::NewStub(suite.gateway);
  rv1::GetSummaryCardRequest read;
  read.set_customer_id(suite.customer_id);
  read.set_min_ledger_version(recorded.ledger_version());
  for (int i = 0; i < 2; ++i) {
    rv1::GetSummaryCardResponse response;
    if (auto s = reports->GetSummaryCard(keyed().get(), read, &response); !s.ok()) {
      return errors::FromGrpcStatus(s);
    }
    suite.card = response.card();
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------
// In-process costs

ResultRow CostRow(const std::string& label, const CallCost& cost) {
  return {label,
          {{"outstanding", "in-process"},
           {"calls/s", Fixed(cost.per_second, 0)},
           {"p50 µs", Fixed(cost.p50_us, 2)},
           {"p99 µs", Fixed(cost.p99_us, 2)},
           {"CPU µs/call", Fixed(cost.p50_us, 2)},
           {"errors", "0"}}};
}

struct AuthCosts {
  CallCost api_key, jwt_verify_rs256, jwt_verify_es256, jwt_first, jwt_cached, sign, verify;
};

AuthCosts MeasureAuth(const std::string& dir) {
  const Clock& clock = RealClock::Get();
  auto keys = gateway::WatchedFile<gateway::ApiKeys>::Open(
      dir + "/none",
      [](const std::string&) {
        return gateway::ApiKeys::Parse(
            absl::StrCat(R"({"key_sha256": ")", crypto::Sha256Hex(kApiKey),
                         R"(", "name": "bench-owner", "tenant": "bench", "roles": ["owner"]})"));
      },
      clock, absl::Seconds(1));
  auto jwks = gateway::WatchedFile<auth::Jwks>::Open(
      dir + "/none",
      [](const std::string&) -> absl::StatusOr<std::shared_ptr<const auth::Jwks>> {
        auto parsed = auth::Jwks::Parse(Jwks());
        if (!parsed.ok()) return parsed.status();
        return std::make_shared<const auth::Jwks>(*std::move(parsed));
      },
      clock, absl::Seconds(1));
  if (!keys.ok() || !jwks.ok()) return {};
  const auth::JwtSettings settings{kIssuer, kAudience};
  gateway::Authenticator authenticator(keys->get(), jwks->get(), settings, clock);
  AuthCosts costs;
  auto authenticate = [&](const std::string& header, const std::string& value) {
    gateway::Metadata metadata{{grpc::string_ref(header), grpc::string_ref(value)}};
    if (!authenticator.Authenticate(metadata).ok()) std::abort();
  };
  costs.api_key = TimeCalls(200, 1000, [&](int64_t) { authenticate("x-api-key", kApiKey); });

  // Distinct tokens: each is verified once (a signature check), then found in the cache.
  std::vector<std::string> fresh;
  for (int i = 0; i < 220; ++i) fresh.push_back("Bearer " + OwnerToken(i));
  costs.jwt_first =
      TimeCalls(20, 10, [&](int64_t i) { authenticate("authorization", fresh[i % fresh.size()]); });
  costs.jwt_cached =
      TimeCalls(200, 1000, [&](int64_t) { authenticate("authorization", fresh.front()); });

  const auth::JwtVerifier verifier((*jwks)->Current(), settings);
  const std::string token = fresh.front().substr(7);
  costs.jwt_verify_rs256 = TimeCalls(50, 20, [&](int64_t) {
    if (!verifier.Verify(token, absl::Now()).ok()) std::abort();
  });
  EVP_PKEY* ec = auth::test_keys::SharedP256Key();
  auto ec_jwks = auth::Jwks::Parse(auth::test_keys::JwksOf({auth::test_keys::EcJwk(ec, "ec")}));
  if (ec_jwks.ok()) {
    const auth::JwtVerifier ec_verifier(std::make_shared<const auth::Jwks>(*std::move(ec_jwks)),
                                        settings);
    const std::string ec_token = auth::test_keys::SignToken(
        R"({"alg":"ES256","kid":"ec"})",
        absl::StrFormat(R"({"sub":"u","tenant":"bench","roles":["owner"],"iss":"%s","aud":"%s",)"
                        R"("exp":%d})",
                        kIssuer, kAudience, absl::ToUnixSeconds(absl::Now() + absl::Hours(1))),
        ec);
    costs.jwt_verify_es256 = TimeCalls(50, 20, [&](int64_t) {
      if (!ec_verifier.Verify(ec_token, absl::Now()).ok()) std::abort();
    });
  }

  const std::string internal_key(64, 'k');
  const auth::CredentialSigner signer(internal_key, "gateway", clock);
  const auth::CredentialVerifier credentials(internal_key, clock);
  const auth::Principal owner = Owner();
  costs.sign = TimeCalls(200, 1000, [&](int64_t) { (void)signer.Sign(owner); });
  const std::string credential = signer.Sign(owner);
  costs.verify = TimeCalls(200, 1000, [&](int64_t) {
    if (!credentials.Verify(credential).ok()) std::abort();
  });
  return costs;
}

// The Redis server's process id, from INFO (for its CPU figures); 0 when unknown.
pid_t RedisPid(const Suite& suite) {
  cache::RedisPoolOptions options;
  options.server = *cache::ParseRedisUrl(suite.cluster->redis->url());
  options.connections = 1;
  cache::RedisPool redis(options);
  auto info = redis.Command({"INFO", "server"});
  if (!info.ok()) return 0;
  for (absl::string_view line : absl::StrSplit(info->text, absl::ByAnyChar("\r\n"))) {
    int pid = 0;
    if (absl::ConsumePrefix(&line, "process_id:") && absl::SimpleAtoi(line, &pid)) return pid;
  }
  return 0;
}

// The cached card path's Redis work alone, through the gateway's classes and pool settings
// (16 connections): the rate-limit script, then the card lookup script (both as the gateway
// would send them when its lease is empty: an upper bound on the path's Redis cost).
// `cpu_us`: this process's and Redis's CPU per pair, in µs.
LoadResult MeasureRedis(const Suite& suite, pid_t redis_pid, int threads, absl::Duration duration,
                        std::pair<double, double>* cpu_us) {
  cache::RedisPoolOptions options;
  options.server = *cache::ParseRedisUrl(suite.cluster->redis->url());
  options.connections = 16;
  cache::RedisPool redis(options);
  gateway::RateLimiterOptions limits;
  limits.limit = {1e9, 1000000000};
  gateway::RateLimiter limiter(redis, limits, RealClock::Get());
  gateway::CardCache cards(redis);
  auto op = [&](int, int64_t) -> absl::Status {
    if (!limiter.Admit(kTenant).allowed) return absl::ResourceExhaustedError("rate limited");
    auto lookup = cards.Lookup(kTenant, suite.customer_id, 0);
    if (!lookup.ok()) return lookup.status();
    if (!lookup->card) return absl::NotFoundError("the card is not cached");
    return absl::OkStatus();
  };
  (void)RunClients(threads, int64_t{1} << 40, absl::Seconds(1), op);
  const absl::Time now = absl::Now();
  CpuWindow window({{"caller", getpid()}, {"Redis", redis_pid}}, now, now + duration);
  LoadResult result = RunClients(threads, int64_t{1} << 40, duration, op);
  const std::vector<ProcessCpu> cpu = window.Finish();
  const double pairs = static_cast<double>(std::max<int64_t>(1, result.operations));
  if (cpu.size() == 2) *cpu_us = {cpu[0].seconds * 1e6 / pairs, cpu[1].seconds * 1e6 / pairs};
  return result;
}

// ---------------------------------------------------------------------------------------
// Load cases

struct Case {
  std::string label;
  int outstanding = 1;
  AsyncCall call;
  std::vector<LoadResult> runs;
  int gateway_crashes = 0;  // runs after which the gateway was found dead (and restarted)
  std::vector<std::vector<ProcessCpu>> cpu;  // per run: CPU used in the measured window
};

struct Figures {
  double qps = 0, p50_ms = 0, p99_ms = 0;
  int64_t errors = 0;
  std::string first_error;
};

Figures MedianOf(const Case& c) {
  std::vector<double> qps, p50, p99;
  Figures out;
  for (const LoadResult& r : c.runs) {
    qps.push_back(r.per_second);
    p50.push_back(r.latency.p50_ms);
    p99.push_back(r.latency.p99_ms);
    out.errors += r.errors;
    if (out.first_error.empty()) out.first_error = r.first_error;
  }
  out.qps = Median(qps);
  out.p50_ms = Median(p50);
  out.p99_ms = Median(p99);
  return out;
}

std::vector<Case> Cases(const Suite& suite, std::shared_ptr<grpc::Channel> null_rpc,
                        int outstanding) {
  const std::string& id = suite.customer_id;
  ContextFactory keyed = WithHeader(gateway::kApiKeyHeader, kApiKey);
  ContextFactory bearer = WithHeader(gateway::kAuthorizationHeader, "Bearer " + OwnerToken(9999));
  const testing::Cluster* cluster = suite.cluster.get();
  ContextFactory signed_context = [cluster] { return cluster->SignedContext(Owner()); };
  const AsyncCall null_call = CardCall(null_rpc, PlainContext, id);
  std::vector<Case> cases;
  auto add = [&](std::string label, int calls, AsyncCall call) {
    cases.push_back(Case{std::move(label), calls, std::move(call), {}, 0, {}});
  };
  // AddTargets reads them by position.
  add("null RPC", outstanding, null_call);
  add("gateway GetSummaryCard (cached), API key", outstanding, CardCall(suite.gateway, keyed, id));
  add("gateway GetSummaryCard (cached), JWT", outstanding, CardCall(suite.gateway, bearer, id));
  add("null RPC", 1, null_call);
  add("gateway GetSummaryCard (cached), API key", 1, CardCall(suite.gateway, keyed, id));
  add("direct GetCustomer (signed credential)", 1,
      CustomerCall(suite.customer, signed_context, id));
  add("gateway GetCustomer, API key", 1, CustomerCall(suite.gateway, keyed, id));
  add("direct GetCustomer (signed credential)", outstanding,
      CustomerCall(suite.customer, signed_context, id));
  add("gateway GetCustomer, API key", outstanding, CustomerCall(suite.gateway, keyed, id));
  return cases;
}

// A crashed gateway is reported with the case that crashed it and started again, so that
// one crash does not turn every later case into errors.
absl::Status RestartIfDead(testing::ServiceProcess& gateway, Case& c) {
  if (gateway.IsRunning()) return absl::OkStatus();
  ++c.gateway_crashes;
  const std::string log = gateway.LogTail(300);
  std::fprintf(stderr, "the gateway died during %s; its log ends:\n%s\n", c.label.c_str(),
               log.c_str());
  if (absl::Status s = gateway.Kill(); !s.ok()) return s;  // reaps it
  return gateway.Restart();
}

void RunCase(Case& c, std::vector<std::pair<std::string, pid_t>> processes) {
  ClosedLoopOptions options;
  options.outstanding = c.outstanding;
  options.warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup));
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const absl::Time from = absl::Now() + options.warmup;
  CpuWindow window(std::move(processes), from, from + options.duration);
  c.runs.push_back(absl::GetFlag(FLAGS_client) == "threads" ? RunThreads(options, c.call)
                                                            : RunClosedLoop(options, c.call));
  c.cpu.push_back(window.Finish());
}

// Each watched process's CPU per successful call, medians over the rounds, in µs.
std::vector<std::pair<std::string, double>> CpuPerCallOf(const Case& c) {
  std::vector<std::pair<std::string, double>> out;
  for (size_t p = 0; !c.cpu.empty() && p < c.cpu.front().size(); ++p) {
    std::vector<double> per_call;
    for (size_t r = 0; r < c.cpu.size() && r < c.runs.size(); ++r) {
      const int64_t calls = std::max<int64_t>(1, c.runs[r].operations);
      if (p < c.cpu[r].size()) per_call.push_back(c.cpu[r][p].seconds * 1e6 / calls);
    }
    out.emplace_back(c.cpu.front()[p].name, Median(per_call));
  }
  return out;
}

double CpuOf(const Case& c, const std::string& process) {
  double total = 0;
  for (const auto& [name, us] : CpuPerCallOf(c)) {
    if (process.empty() || name == process) total += us;
  }
  return total;
}

// "gateway 41, Redis 30, client 12 µs/call (total 83: at most 24000 calls/s on 2 cores)":
// the median over the rounds of each process's CPU per successful call.
std::string CpuPerCall(const Case& c) {
  std::vector<std::string> parts;
  for (const auto& [name, us] : CpuPerCallOf(c)) {
    if (us >= 0.5) parts.push_back(absl::StrCat(name, " ", Fixed(us, 0)));
  }
  const double total = CpuOf(c, "");
  const double cores = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  return absl::StrCat(absl::StrJoin(parts, ", "), " µs/call (total ", Fixed(total, 0), ": at most ",
                      Fixed(cores * 1e6 / std::max(1.0, total), 0), " calls/s on ", cores,
                      " cores)");
}

ResultRow LoadRow(const Case& c, const Figures& f) {
  return {absl::StrCat(c.label),
          {{"outstanding", absl::StrCat(c.outstanding)},
           {"calls/s", Fixed(f.qps, 0)},
           {"p50 µs", Fixed(f.p50_ms * 1000, 0)},
           {"p99 µs", Fixed(f.p99_ms * 1000, 0)},
           {"CPU µs/call", Fixed(CpuOf(c, ""), 0)},
           {"errors", absl::StrCat(f.errors)}}};
}

std::string Verdict(bool met) { return met ? "met" : "**missed**"; }

// The targets of issue 11 from this run's medians, and for each miss by how much.
void AddTargets(Report& report, const std::vector<Case>& cases, const LoadResult& redis64,
                const LoadResult& redis1, std::pair<double, double> redis_cpu) {
  const Figures null64 = MedianOf(cases[0]), card64 = MedianOf(cases[1]),
                jwt64 = MedianOf(cases[2]), null1 = MedianOf(cases[3]), card1 = MedianOf(cases[4]),
                direct1 = MedianOf(cases[5]), forwarded1 = MedianOf(cases[6]),
                direct64 = MedianOf(cases[7]), forwarded64 = MedianOf(cases[8]);
  const double qps_ratio = card64.qps / std::max(1.0, null64.qps);
  const double p99_ratio = card64.p99_ms / std::max(1e-9, null64.p99_ms);
  const double p50_ratio = forwarded1.p50_ms / std::max(1e-9, direct1.p50_ms);
  report.AddNote(
      absl::StrCat("Targets (issue 11), from this run's medians:\n\n"
                   "| target | measured | |\n|---|---:|---|\n",
                   "| cached GetSummaryCard QPS ≥ 0.50 × null RPC QPS (", cases[0].outstanding,
                   " outstanding) | ", Fixed(qps_ratio, 2), " × (", Fixed(card64.qps, 0), " / ",
                   Fixed(null64.qps, 0), ") | ", Verdict(qps_ratio >= 0.5), " |\n",
                   "| cached GetSummaryCard p99 ≤ 2 × null RPC p99 | ", Fixed(p99_ratio, 2), " × (",
                   Fixed(card64.p99_ms, 2), " ms / ", Fixed(null64.p99_ms, 2), " ms) | ",
                   Verdict(p99_ratio <= 2.0), " |\n",
                   "| forwarded GetCustomer p50 ≤ 1.3 × direct (1 outstanding) | ",
                   Fixed(p50_ratio, 2), " × (", Fixed(forwarded1.p50_ms, 3), " ms / ",
                   Fixed(direct1.p50_ms, 3), " ms) | ", Verdict(p50_ratio <= 1.3), " |\n"));
  report.AddNote(absl::StrCat(
      "Also measured: with a JWT instead of an API key the cached card runs at ",
      Fixed(jwt64.qps / std::max(1.0, card64.qps), 2),
      " × the API-key rate (verified tokens are cached, so each call costs a hash-map "
      "lookup, not a signature check). At one outstanding call the cached card takes ",
      Fixed(card1.p50_ms, 3), " ms at p50 against ", Fixed(null1.p50_ms, 3),
      " ms for the null RPC. At ", cases[7].outstanding,
      " outstanding, forwarded GetCustomer runs at ",
      Fixed(forwarded64.qps / std::max(1.0, direct64.qps), 2), " × the direct rate, p50 ",
      Fixed(forwarded64.p50_ms / std::max(1e-9, direct64.p50_ms), 2),
      " × the direct p50. The cached path's Redis work alone (the rate-limit script and the "
      "card lookup script, the gateway's classes and pool of 16 connections, in this "
      "process): ",
      Fixed(redis64.per_second, 0), " pairs/s from ", redis64.clients, " threads (",
      Fixed(redis64.per_second / std::max(1.0, null64.qps), 2), " × the null RPC rate), ",
      Fixed(redis1.latency.p50_ms * 1000, 0),
      " µs p50 for one pair from one thread; CPU per pair: ", Fixed(redis_cpu.first, 0),
      " µs in the calling process, ", Fixed(redis_cpu.second, 0), " µs in Redis."));
}

// Every case (whose label contains `only`) once per round; a gateway that died is restarted.
absl::Status RunRounds(std::vector<Case>& cases, testing::Cluster& cluster, pid_t null_rpc_pid,
                       pid_t redis_pid, const std::string& only) {
  auto watched = [&]() -> std::vector<std::pair<std::string, pid_t>> {
    return {{"client", getpid()},
            {"null RPC server", null_rpc_pid},
            {"gateway", cluster.gateways[0]->pid()},
            {"Redis", redis_pid},
            {"customer-svc", cluster.customer->pid()},
            {"ledger-svc", cluster.ledger->pid()},
            {"report-svc", cluster.report->pid()}};
  };
  for (int round = 0; round < absl::GetFlag(FLAGS_repeats); ++round) {
    for (Case& c : cases) {
      if (!absl::StrContains(c.label, only)) continue;
      std::fprintf(stderr, "round %d: %s, %d outstanding\n", round + 1, c.label.c_str(),
                   c.outstanding);
      RunCase(c, watched());
      if (absl::Status s = RestartIfDead(*cluster.gateways[0], c); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// --only: the figures of the cases run, on stdout.
void PrintCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    if (c.runs.empty()) continue;
    const Figures f = MedianOf(c);
    std::printf(
        "%s, %d outstanding: %.0f calls/s, p50 %.3f ms, p99 %.3f ms, %lld errors, %d gateway "
        "crashes %s\n  CPU: %s\n",
        c.label.c_str(), c.outstanding, f.qps, f.p50_ms, f.p99_ms, static_cast<long long>(f.errors),
        c.gateway_crashes, f.first_error.c_str(), CpuPerCall(c).c_str());
  }
}

void AddRows(Report& report, const std::vector<Case>& cases, const AuthCosts& auth) {
  for (const Case& c : cases) {
    const Figures f = MedianOf(c);
    report.AddRow(LoadRow(c, f));
    if (f.errors > 0 || c.gateway_crashes > 0) {
      report.AddNote(absl::StrCat(c.label, ", ", c.outstanding, " outstanding: ", f.errors,
                                  " errors in all rounds, first: ", f.first_error,
                                  "; the gateway crashed (and was restarted) after ",
                                  c.gateway_crashes, " of ", c.runs.size(), " rounds."));
    }
  }
  report.AddRow(CostRow("auth: API key (Authenticate)", auth.api_key));
  report.AddRow(
      CostRow("auth: JWT RS256, first call (Authenticate: verify + cache)", auth.jwt_first));
  report.AddRow(CostRow("auth: JWT RS256, cached (Authenticate)", auth.jwt_cached));
  report.AddRow(CostRow("auth: JwtVerifier::Verify RS256 (2048-bit)", auth.jwt_verify_rs256));
  report.AddRow(CostRow("auth: JwtVerifier::Verify ES256", auth.jwt_verify_es256));
  report.AddRow(CostRow("auth: internal credential, sign (gateway, per call)", auth.sign));
  report.AddRow(CostRow("auth: internal credential, verify (backend, per call)", auth.verify));
  report.AddNote(absl::StrCat(
      "Load rows: medians over ", absl::GetFlag(FLAGS_repeats), " rounds of ",
      absl::GetFlag(FLAGS_seconds), " s each after ", absl::GetFlag(FLAGS_warmup),
      " s of warm-up; the cases run in turn within each round. Client: ",
      absl::GetFlag(FLAGS_client) == "threads"
          ? "one blocking call per thread"
          : "a closed loop on gRPC's callback API (a comparison run with one blocking call per "
            "thread gave a lower null RPC rate)",
      ", one channel per target, the same for every target. The null RPC server is a child "
      "process answering GetSummaryCard with the same card bytes on gRPC's synchronous server "
      "set up as the services set theirs (a thread limit of 256, the pollers kept) and with "
      "no interceptors: the same threading as the "
      "gateway's GetSummaryCard handler, none of its work. The direct GetCustomer carries an "
      "internal credential signed like the gateway's. The gateway runs with its defaults "
      "except a rate limit too high to refuse anything (its Redis script still runs on every "
      "call). Auth rows: one thread in this process, timed in batches; µs per call."));
}

// Where the time goes, from the CPU each process used per call in this run.
void AddWhy(Report& report, const std::vector<Case>& cases) {
  const Figures null64 = MedianOf(cases[0]), card64 = MedianOf(cases[1]),
                null1 = MedianOf(cases[3]), direct1 = MedianOf(cases[5]),
                forwarded1 = MedianOf(cases[6]);
  std::string cpu = "CPU per successful call, by process (medians over the rounds):\n";
  for (const Case& c : cases) {
    absl::StrAppend(&cpu, "\n- ", c.label, ", ", c.outstanding, " outstanding: ", CpuPerCall(c));
  }
  report.AddNote(cpu);
  const double outstanding = cases[0].outstanding;
  report.AddNote(absl::StrCat(
      "Why. Cached card throughput: client, servers and Redis share the machine's cores, and "
      "at ",
      cases[0].outstanding,
      " outstanding calls every target is CPU-bound, so the QPS ratio is the inverse ratio of "
      "CPU per call: ",
      Fixed(CpuOf(cases[1], ""), 0), " µs for the cached card against ",
      Fixed(CpuOf(cases[0], ""), 0), " µs for the null RPC. The gateway spends ",
      Fixed(CpuOf(cases[1], "gateway"), 0), " µs per cached call where the null server spends ",
      Fixed(CpuOf(cases[0], "null RPC server"), 0),
      ": the same synchronous-server thread, plus its metrics interceptor, authentication and "
      "authorization (under a microsecond, see the auth rows), the tenant's rate limit (tokens "
      "leased from Redis many at a time: no round trip for most calls), one card lookup script "
      "whose round trip concurrent calls share (the first caller pipelines what has queued "
      "up), and parsing the cached card to serialize it again; Redis adds ",
      Fixed(CpuOf(cases[1], "Redis"), 0),
      " µs per call. p99: at a fixed number of calls in flight latency follows throughput "
      "(Little's law: ",
      Fixed(outstanding / std::max(1.0, card64.qps) * 1000, 2), " ms mean for the card, ",
      Fixed(outstanding / std::max(1.0, null64.qps) * 1000, 2),
      " ms for the null RPC). Forwarded GetCustomer: a proxy adds one loopback hop, at least a "
      "null RPC (",
      Fixed(null1.p50_ms, 3),
      " ms p50 at 1 outstanding), so the ratio cannot go below (direct + null) / direct = ",
      Fixed((direct1.p50_ms + null1.p50_ms) / std::max(1e-9, direct1.p50_ms), 2),
      " × on this machine, above the 1.3 × target; the remaining ",
      Fixed(std::max(0.0, forwarded1.p50_ms - direct1.p50_ms - null1.p50_ms), 3),
      " ms is the gateway's own work at one call in flight: gRPC's callback threads waking "
      "for the incoming call and again for the backend's answer (the CPU rows show the "
      "gateway's cost per call falling from one to 64 outstanding), signing the internal "
      "credential, and the rate limit from the leased tokens."));
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_null_rpc_port) > 0) {
    NullRpcOptions options;
    options.max_threads = absl::GetFlag(FLAGS_null_rpc_threads);
    absl::Status s = ServeNullRpc(absl::GetFlag(FLAGS_null_rpc_port),
                                  absl::GetFlag(FLAGS_null_rpc_card), options);
    std::fprintf(stderr, "null RPC server: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  // ServiceProcess finds the services under $KELOLA_BUILD_DIR: outside ctest, the build
  // directory this binary is in (build/bench/gateway_bench).
  setenv("KELOLA_BUILD_DIR", self.parent_path().parent_path().c_str(), 0);

  auto fail = [](const char* what, const absl::Status& s) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    return 1;
  };
  auto suite = StartSuite();
  if (!suite.ok()) return fail("starting the suite", suite.status());
  if (absl::GetFlag(FLAGS_keep_dir)) {
    suite->cluster->dir->Keep();
    std::fprintf(stderr, "cluster directory: %s\n", suite->cluster->dir->path().c_str());
  }
  if (absl::Status s = Seed(*suite); !s.ok()) return fail("seeding", s);
  const std::string card_file = suite->cluster->dir->Join("card.bin");
  std::ofstream(card_file, std::ios::binary) << suite->card.SerializeAsString();
  auto null_rpc =
      StartNullRpcServer(self.string(), card_file, suite->cluster->dir->Join("null-rpc.log"));
  if (!null_rpc.ok()) return fail("starting the null RPC server", null_rpc.status());

  Report report("gateway", "Gateway: cached cards, forwarding and authentication (issue 11)",
                "scripts/bench gateway");
  std::vector<Case> cases =
      Cases(*suite, grpc::CreateChannel(null_rpc->address, grpc::InsecureChannelCredentials()),
            absl::GetFlag(FLAGS_outstanding));
  const pid_t redis_pid = RedisPid(*suite);
  const std::string only = absl::GetFlag(FLAGS_only);
  if (absl::Status s = RunRounds(cases, *suite->cluster, null_rpc->process->pid(), redis_pid, only);
      !s.ok()) {
    return fail("running the cases", s);
  }
  if (!only.empty()) {
    PrintCases(cases);
    return 0;
  }
  std::fprintf(stderr, "authentication costs, Redis alone...\n");
  const AuthCosts auth = MeasureAuth(suite->cluster->dir->path());
  const absl::Duration redis_time = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::pair<double, double> redis_cpu, unused;
  const LoadResult redis64 =
      MeasureRedis(*suite, redis_pid, absl::GetFlag(FLAGS_outstanding), redis_time, &redis_cpu);
  const LoadResult redis1 = MeasureRedis(*suite, redis_pid, 1, redis_time, &unused);

  AddRows(report, cases, auth);
  AddTargets(report, cases, redis64, redis1, redis_cpu);
  AddWhy(report, cases);
  absl::Status written = report.Write(absl::GetFlag(FLAGS_root));
  return written.ok() ? 0 : 1;
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
