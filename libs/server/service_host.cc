#include "libs/server/service_host.h"

#include <signal.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/log/log.h"
#include "libs/server/request_parsing.h"
#include "libs/server/request_text.h"
#include "libs/threads/thread_name.h"

namespace kelola::server {
namespace {

constexpr char kHandled[] = "kelola_grpc_server_handled_total";
constexpr char kLatency[] = "kelola_grpc_server_handling_seconds";
constexpr char kReady[] = "kelola_ready";

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : "UNKNOWN";
}

std::string MetadataValue(std::multimap<grpc::string_ref, grpc::string_ref>* metadata,
                          const char* key) {
  if (metadata == nullptr) return "";
  auto it = metadata->find(key);
  return it == metadata->end() ? "" : std::string(it->second.data(), it->second.size());
}

// Counts every call by method and status code, observes its latency, and logs the calls
// that failed on the server's side.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, metrics::Registry* registry)
      : method_(info->method()), registry_(registry), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* metadata = methods->GetRecvInitialMetadata();
      request_id_ = MetadataValue(metadata, "x-request-id");
      tenant_ = MetadataValue(metadata, "x-kelola-tenant");
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const char* code = CodeName(status.error_code());
      registry_->Increment(kHandled, {{"method", method_}, {"code", code}});
      registry_->Observe(kLatency, {{"method", method_}},
                         absl::ToDoubleSeconds(absl::Now() - start_));
      const auto c = status.error_code();
      if (c == grpc::StatusCode::INTERNAL || c == grpc::StatusCode::UNKNOWN ||
          c == grpc::StatusCode::DATA_LOSS) {
        log::Error("call failed", {{"method", method_},
                                   {"code", code},
                                   {"error", status.error_message()},
                                   {"request_id", request_id_},
                                   {"tenant", tenant_}});
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  metrics::Registry* registry_;
  absl::Time start_;
  std::string request_id_;
  std::string tenant_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(metrics::Registry* registry) : registry_(registry) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, registry_);
  }

 private:
  metrics::Registry* registry_;
};

}  // namespace

ServiceHost::ServiceHost(ServerOptions options, metrics::Registry* registry,
                         ReadinessCheck readiness)
    : options_(std::move(options)), registry_(registry), readiness_(std::move(readiness)) {}

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const ServerOptions& options, metrics::Registry* registry,
    const std::vector<grpc::Service*>& services, ReadinessCheck readiness) {
  registry->DeclareCounter(kHandled, "gRPC calls completed, by method and status code.");
  registry->DeclareHistogram(kLatency, "gRPC call latency in seconds, by method.");
  registry->DeclareGauge(kReady, "1 when the service's dependencies are ready, else 0.");

  std::unique_ptr<ServiceHost> host(new ServiceHost(options, registry, std::move(readiness)));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int selected_port = 0;
  const std::string address = options.listen.ToString();
  builder.AddListeningPort(
      address,
      options.credentials != nullptr ? options.credentials : grpc::InsecureServerCredentials(),
      &selected_port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes > 0
                                       ? options.max_receive_message_bytes
                                       : options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
  // A port held by another process must be an error, not a shared listener.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  // Handler threads stay once made: with gRPC's default of at most two idle pollers, every
  // handler thread beyond them ends after its call and a new one is made for the next call
  // (a thread creation per call or two under load).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              options.max_threads);
  grpc::ResourceQuota quota(options.service_name);
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  // First: a request that cannot be parsed is answered INVALID_ARGUMENT before the
  // metrics interceptor counts and logs the call.
  InstallRequestParseLogHandler();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  if (options.check_requests) {
    factories.push_back(NewRequestParseInterceptorFactory(ErrorDomainOf(options.service_name)));
    // Then: a parsed request with a NUL character in a string field is the caller's fault.
    factories.push_back(NewRequestTextInterceptorFactory(ErrorDomainOf(options.service_name)));
  }
  factories.push_back(std::make_unique<MetricsInterceptorFactory>(registry));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (options.generic_service != nullptr) {
    builder.RegisterCallbackGenericService(options.generic_service);
  }

  host->server_ = builder.BuildAndStart();
  if (host->server_ == nullptr || selected_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, " (port in use or address not local?)"));
  }
  host->port_ = selected_port;

  if (options.metrics_listen.has_value()) {
    ServiceHost* raw = host.get();
    auto endpoint =
        metrics::HttpEndpoint::Start(options.metrics_listen->host, options.metrics_listen->port,
                                     registry, [raw] { return raw->ready(); });
    if (!endpoint.ok()) {
      host->server_->Shutdown(std::chrono::system_clock::now());
      return endpoint.status();
    }
    host->endpoint_ = *std::move(endpoint);
  }

  host->UpdateReadiness();
  host->readiness_thread_ =
      threads::Start("readiness", [raw = host.get()] { raw->ReadinessLoop(); });
  return host;
}

ServiceHost::~ServiceHost() { Shutdown(); }

void ServiceHost::OnShutdown(std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  on_shutdown_.push_back(std::move(fn));
}

void ServiceHost::UpdateReadiness() {
  absl::Status status = readiness_ ? readiness_() : absl::OkStatus();
  const bool ready = status.ok();
  const bool was = ready_.exchange(ready);
  if (server_ != nullptr && !stopping_.HasBeenNotified()) {
    server_->GetHealthCheckService()->SetServingStatus(ready);
  }
  registry_->Set(kReady, {}, ready ? 1 : 0);
  if (was != ready) {
    if (ready) {
      log::Info("ready");
    } else {
      log::Warn("not ready", {{"reason", std::string(status.message())}});
    }
  }
}

void ServiceHost::ReadinessLoop() {
  while (!stopping_.WaitForNotificationWithTimeout(options_.readiness_interval)) {
    UpdateReadiness();
  }
}

void ServiceHost::Shutdown() {
  std::vector<std::function<void()>> hooks;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    hooks.swap(on_shutdown_);
  }
  stopping_.Notify();
  if (readiness_thread_.joinable()) readiness_thread_.join();
  ready_ = false;
  if (server_ != nullptr) server_->GetHealthCheckService()->Shutdown();
  for (auto& hook : hooks) hook();
  if (server_ != nullptr) {
    const auto deadline =
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.shutdown_grace));
    server_->Shutdown(deadline);
    server_->Wait();
  }
  if (endpoint_ != nullptr) endpoint_->Stop();
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int signal = 0;
  sigwait(&set, &signal);
  return signal;
}

}  // namespace kelola::server
