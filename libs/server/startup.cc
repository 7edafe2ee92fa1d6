#include "libs/server/startup.h"

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpc/support/log.h"
#include "libs/config/config.h"
#include "libs/log/log.h"
#include "libs/paging/page_token.h"
#include "libs/server/call_credentials.h"
#include "libs/server/transport_security.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "gRPC listen address HOST:PORT (port 0 = any)");
ABSL_FLAG(std::string, metrics_listen, "",
          "HTTP address HOST:PORT for /metrics and /healthz; empty = off");
ABSL_FLAG(std::string, log_level, "info", "lowest log level written: debug, info, warn, error");
ABSL_FLAG(int, db_pool_size, 8,
          "database connections kept open (SQLite: reading connections besides the one "
          "writer; PostgreSQL: transactions that can run at once)");
ABSL_FLAG(int, max_message_bytes, 4 * 1024 * 1024, "largest gRPC message accepted or sent");
ABSL_FLAG(int, max_threads, 256,
          "gRPC handler threads: calls in flight at once (each holds one while it runs)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight calls may run after SIGTERM");
ABSL_FLAG(std::string, page_token_key_file, "",
          "file of page-token secrets, one per line, each at least 32 bytes: the first signs, "
          "all verify (rotation); every replica of a service needs the same file. Empty = a "
          "built-in development secret, accepted only when --listen is a loopback address "
          "(or with --allow_development_page_token_key)");
ABSL_FLAG(bool, allow_development_page_token_key, false,
          "sign page tokens with the public development secret even though --listen is not a "
          "loopback address (tokens can then be forged: never in production)");
ABSL_FLAG(std::string, internal_key_file, "",
          "file holding the secret shared by the gateway and the services (one line, at "
          "least 32 printable ASCII characters): it signs the internal credential of every "
          "call between them and guards the all-tenants event streams. Required unless "
          "--trust_tenant_header");
ABSL_FLAG(bool, trust_tenant_header, false,
          "LOCAL TESTS ONLY: without --internal_key_file, believe the x-kelola-tenant and "
          "x-kelola-principal headers of any caller (who then holds every role)");

namespace kelola::server {
namespace {

// gRPC's own log lines become JSON lines like ours.
void GrpcLogToJson(gpr_log_func_args* args) {
  const log::Level level = args->severity == GPR_LOG_SEVERITY_ERROR  ? log::Level::kWarn
                           : args->severity == GPR_LOG_SEVERITY_INFO ? log::Level::kInfo
                                                                     : log::Level::kDebug;
  log::Write(level, args->message,
             {{"source", "grpc"}, {"at", absl::StrCat(args->file, ":", args->line)}});
}

// Page tokens are signed (libs/paging); replicas must share the secret to accept each
// other's tokens. The development secret is public: it is refused for a service that
// listens beyond loopback unless explicitly allowed. See
// docs/decisions/input-validation-and-errors.md.
void ConfigurePageTokens(const config::HostPort& listen) {
  const std::string path = absl::GetFlag(FLAGS_page_token_key_file);
  if (path.empty()) {
    if (!IsLoopbackHost(listen.host) && !absl::GetFlag(FLAGS_allow_development_page_token_key)) {
      config::Die("--page_token_key_file",
                  absl::InvalidArgumentError(absl::StrCat(
                      "required when --listen is not a loopback address (", listen.ToString(),
                      "): without it page tokens are signed with the public development secret; "
                      "set --allow_development_page_token_key to accept that")));
    }
    log::Warn(
        "page tokens are signed with the built-in development secret; set "
        "--page_token_key_file (KELOLA_PAGE_TOKEN_KEY_FILE) to a secret shared by all replicas "
        "in production");
    return;
  }
  auto secrets = paging::ReadSecretsFile(path);
  if (!secrets.ok()) config::Die("--page_token_key_file", secrets.status());
  auto codec = paging::PageTokenCodec::Create(*secrets);
  if (!codec.ok()) config::Die("--page_token_key_file", codec.status());
  paging::InstallCodec(*std::move(codec));
}

}  // namespace

bool IsLoopbackHost(absl::string_view host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::string> ReadInternalKey(const std::string& path) {
  auto secrets = paging::ReadSecretsFile(path);
  if (!secrets.ok()) return secrets.status();
  if (secrets->size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, " must hold exactly one secret line"));
  }
  const std::string& key = secrets->front();
  if (key.size() < kMinInternalKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the internal key must have at least ",
                                                   kMinInternalKeyBytes, " characters, not ",
                                                   key.size(), " (e.g. `openssl rand -hex 32`)"));
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {  // it travels as a gRPC metadata value
      return absl::InvalidArgumentError(
          "the internal key must be printable ASCII without spaces (e.g. `openssl rand -hex 32`)");
    }
  }
  return key;
}

namespace {

std::string& ConfiguredInternalKey() {
  static auto* key = new std::string();
  return *key;
}

// Every call between the processes carries a credential signed with the internal key
// (libs/server/call_credentials.h); a process without one runs only when told to trust
// headers, which is for local tests.
void ConfigureCallAuthentication(absl::string_view service_name) {
  const std::string path = absl::GetFlag(FLAGS_internal_key_file);
  if (path.empty()) {
    if (!absl::GetFlag(FLAGS_trust_tenant_header)) {
      config::Die("--internal_key_file",
                  absl::InvalidArgumentError(
                      "required: it authenticates every call between the gateway and the "
                      "services (generate one with `openssl rand -hex 32`); for local tests "
                      "only, --trust_tenant_header runs without it"));
    }
    log::Warn(
        "no --internal_key_file: --trust_tenant_header believes the tenant and principal "
        "headers of ANY caller; never run like this where others can reach the port");
  } else {
    auto key = ReadInternalKey(path);
    if (!key.ok()) config::Die("--internal_key_file", key.status());
    ConfiguredInternalKey() = *std::move(key);
  }
  InstallCallAuthentication(std::make_unique<CallAuthentication>(
      ConfiguredInternalKey(), std::string(service_name), RealClock::Get()));
}

}  // namespace

std::string InternalKeyOrDie() { return ConfiguredInternalKey(); }

ServerOptions InitService(int argc, char** argv, absl::string_view service_name,
                          absl::string_view usage, ServiceTraits traits) {
#ifdef NDEBUG
  // Debian's Abseil is built with mutex deadlock detection on (its debug default): every
  // lock then updates a global lock-order graph. Release builds of the services turn it
  // off, first thing, before any mutex is used; tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  config::ParseFlags(argc, argv, usage);
  log::Level level;
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    config::Die("--log_level", absl::InvalidArgumentError(
                                   absl::StrCat("'", absl::GetFlag(FLAGS_log_level),
                                                "' is not one of debug, info, warn, error")));
  }
  log::Init(service_name, level);
  gpr_set_log_function(GrpcLogToJson);

  ServerOptions options;
  options.service_name = std::string(service_name);
  auto listen = config::ParseHostPort(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) config::Die("--listen", listen.status());
  options.listen = *listen;
  if (traits.issues_page_tokens) ConfigurePageTokens(options.listen);
  ConfigureCallAuthentication(service_name);
  ConfigureTransportSecurity(options, traits.public_endpoint ? tls::ClientCertificates::kNone
                                                             : tls::ClientCertificates::kRequire);
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    auto metrics = config::ParseHostPort(absl::GetFlag(FLAGS_metrics_listen));
    if (!metrics.ok()) config::Die("--metrics_listen", metrics.status());
    options.metrics_listen = *metrics;
  }
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  if (options.max_message_bytes < 1024) {
    config::Die("--max_message_bytes", absl::InvalidArgumentError("must be at least 1024"));
  }
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  if (options.max_threads < 2) {
    config::Die("--max_threads", absl::InvalidArgumentError("must be at least 2"));
  }
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (options.shutdown_grace < absl::ZeroDuration()) {
    config::Die("--shutdown_grace", absl::InvalidArgumentError("must not be negative"));
  }
  return options;
}

std::unique_ptr<db::Database> OpenDatabaseOrDie(absl::string_view setting, const std::string& url,
                                                const std::vector<db::Migration>& migrations,
                                                const db::DatabaseOptions& options) {
  if (url.empty()) config::Die(setting, absl::InvalidArgumentError("a database URL is required"));
  db::DatabaseOptions opened = options;
  opened.pool_size = absl::GetFlag(FLAGS_db_pool_size);
  if (opened.pool_size < 1 || opened.pool_size > 1000) {
    config::Die("--db_pool_size", absl::InvalidArgumentError("must be 1 to 1000"));
  }
  auto db = db::Open(url, opened);
  if (!db.ok()) config::Die(setting, db.status());
  if (absl::Status migrated = db::ApplyMigrations(**db, migrations); !migrated.ok()) {
    config::Die(setting, absl::Status(migrated.code(),
                                      absl::StrCat("migrations failed: ", migrated.message())));
  }
  return *std::move(db);
}

grpc::ChannelArguments PeerChannelArguments() {
  grpc::ChannelArguments args;
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

std::shared_ptr<grpc::Channel> PeerChannelOrDie(absl::string_view setting,
                                                const std::string& target) {
  if (target.empty())
    config::Die(setting, absl::InvalidArgumentError("a peer address is required"));
  return grpc::CreateCustomChannel(target, PeerChannelCredentials(), PeerChannelArguments());
}

int ServeUntilSignal(const ServerOptions& options, metrics::Registry* registry,
                     const std::vector<grpc::Service*>& services, ReadinessCheck readiness,
                     const std::vector<std::function<void()>>& on_shutdown) {
  auto host = ServiceHost::Start(options, registry, services, std::move(readiness));
  if (!host.ok()) config::Die("--listen", host.status());
  for (const auto& hook : on_shutdown) (*host)->OnShutdown(hook);
  log::Info("listening",
            {{"grpc", absl::StrCat(options.listen.host, ":", (*host)->port())},
             {"metrics", options.metrics_listen ? absl::StrCat(options.metrics_listen->host, ":",
                                                               (*host)->metrics_port())
                                                : "off"}});
  const int signal = WaitForTerminationSignal();
  log::Info("shutting down", {{"signal", absl::StrCat(signal)}});
  (*host)->Shutdown();
  log::Info("stopped");
  return 0;
}

}  // namespace kelola::server
