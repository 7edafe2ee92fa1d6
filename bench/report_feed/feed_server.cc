#include "bench/report_feed/feed_server.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/report_feed/customer_history.h"
#include "bench/report_feed/ledger_history.h"
#include "kelola/customer/v1/events.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/errors/errors.h"
#include "libs/events/event_service.h"
#include "libs/server/request_context.h"
#include "libs/time/time.h"

namespace kelola::bench {
namespace {

using kelola::events::v1::WatchEventsRequest;
using kelola::events::v1::WatchEventsResponse;

constexpr char kDomain[] = "events.kelola.id";
// The protocol's round sizes (event_service.proto, WatchEventsRequest.max_batch).
constexpr int kDefaultBatch = 500;
constexpr int kMaxBatch = 5000;

absl::StatusOr<std::unique_ptr<grpc::Server>> Serve(std::vector<grpc::Service*> services,
                                                    std::string& address) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return absl::UnavailableError("cannot start a feed server");
  address = absl::StrCat("127.0.0.1:", port);
  return server;
}

}  // namespace

GeneratedEventService::GeneratedEventService(HistoryFactory make_history, int64_t head,
                                             std::vector<std::string> event_types,
                                             absl::Duration heartbeat_interval)
    : make_history_(std::move(make_history)),
      head_(head),
      event_types_(event_types.begin(), event_types.end()),
      heartbeat_interval_(heartbeat_interval) {}

absl::Time GeneratedEventService::first_stream() const {
  absl::MutexLock lock(&mu_);
  return first_stream_;
}

absl::Status GeneratedEventService::Check(const grpc::ServerContext& context,
                                          const WatchEventsRequest& request,
                                          std::string& tenant) const {
  // No internal key configured: the all-tenants form only from loopback peers, as a
  // producer started without --internal_key_file.
  absl::StatusOr<std::string> scoped = events::StreamTenant(context, request, "");
  if (!scoped.ok()) return scoped.status();
  tenant = *scoped;
  errors::FieldErrors invalid;
  if (request.after_sequence() < 0) invalid.Add("after_sequence", "must be 0 or more");
  if (request.max_batch() < 0) invalid.Add("max_batch", "must be 0 (default) or more");
  for (int i = 0; i < request.types_size(); ++i) {
    if (!event_types_.contains(request.types(i))) {
      invalid.Add(absl::StrCat("types[", i, "]"), "not an event type of this service");
    }
  }
  if (!invalid.empty()) return invalid.ToStatus();
  if (request.after_sequence() > head_) {
    return errors::Error(absl::StatusCode::kOutOfRange, "SEQUENCE_AHEAD",
                         absl::StrCat("after_sequence ", request.after_sequence(),
                                      " is beyond the newest event (", head_, ")"),
                         {{"head_sequence", absl::StrCat(head_)}});
  }
  return absl::OkStatus();
}

grpc::Status GeneratedEventService::WatchEvents(grpc::ServerContext* context,
                                                const WatchEventsRequest* request,
                                                grpc::ServerWriter<WatchEventsResponse>* writer) {
  std::string tenant;
  if (absl::Status s = Check(*context, *request, tenant); !s.ok()) {
    return errors::ToGrpcStatus(s, kDomain);
  }
  {
    absl::MutexLock lock(&mu_);
    first_stream_ = std::min(first_stream_, absl::Now());
  }
  ++streams_;
  const int batch =
      request->max_batch() == 0 ? kDefaultBatch : std::min(request->max_batch(), kMaxBatch);
  const absl::flat_hash_set<std::string> types(request->types().begin(), request->types().end());
  std::unique_ptr<EventHistory> history = make_history_();
  for (int64_t i = 0; i < request->after_sequence(); ++i) history->Next(nullptr);

  // Rounds of at most `batch` events, as the real service reads its log, each event its own
  // write as there (buffer hints would hold writes back from the consumer).
  std::vector<WatchEventsResponse> round;
  for (bool more = true; more;) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    if (shutdown_.HasBeenNotified()) break;
    round.clear();
    while (static_cast<int>(round.size()) < batch) {
      WatchEventsResponse response;
      if (!history->Next(response.mutable_event())) {
        more = false;
        break;
      }
      const type::v1::Event& event = response.event();
      if (!tenant.empty() && event.tenant_id() != tenant) continue;
      if (!types.empty() && !types.contains(event.type())) continue;
      round.push_back(std::move(response));
    }
    for (const WatchEventsResponse& response : round) {
      if (!writer->Write(response)) return grpc::Status::OK;  // the client left
    }
  }
  return Idle(*context, *writer);
}

grpc::Status GeneratedEventService::Idle(grpc::ServerContext& context,
                                         grpc::ServerWriter<WatchEventsResponse>& writer) {
  absl::Time last_sent = absl::Now();
  while (!context.IsCancelled()) {
    if (shutdown_.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      return errors::ToGrpcStatus(
          errors::Error(absl::StatusCode::kUnavailable, "SHUTTING_DOWN",
                        "the server is shutting down; reconnect from your last sequence"),
          kDomain);
    }
    if (absl::Now() - last_sent < heartbeat_interval_) continue;
    WatchEventsResponse response;
    response.mutable_heartbeat()->set_head_sequence(head_);
    *response.mutable_heartbeat()->mutable_time() = time::ToTimestamp(absl::Now());
    if (!writer.Write(response)) return grpc::Status::OK;
    last_sent = absl::Now();
  }
  return grpc::Status::CANCELLED;
}

grpc::Status FixedTenantSettings::GetTenantSettings(
    grpc::ServerContext* context, const kelola::customer::v1::GetTenantSettingsRequest*,
    kelola::customer::v1::GetTenantSettingsResponse* response) {
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return errors::ToGrpcStatus(caller.status(), "customer.kelola.id");
  kelola::customer::v1::TenantSettings& settings = *response->mutable_settings();
  settings.set_tenant_id(caller->tenant_id);
  settings.set_default_phone_region("ID");
  settings.set_currency_code("IDR");
  settings.set_time_zone("Asia/Jakarta");
  settings.set_language_code("id");
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<ReportFeed>> ReportFeed::Start(const HistoryPlan& plan,
                                                              int64_t ledger_head) {
  std::unique_ptr<ReportFeed> feed(new ReportFeed());
  feed->ledger_events_ = std::make_unique<GeneratedEventService>(
      [plan] { return std::make_unique<LedgerHistory>(plan); }, ledger_head,
      events::EventTypesOf(ledger::v1::SaleRecorded::descriptor()->file()));
  feed->customer_events_ = std::make_unique<GeneratedEventService>(
      [plan] { return std::make_unique<CustomerHistory>(plan); }, CustomerHistory::Size(plan),
      events::EventTypesOf(customer::v1::CustomerCreated::descriptor()->file()));
  auto ledger = Serve({feed->ledger_events_.get()}, feed->ledger_address_);
  if (!ledger.ok()) return ledger.status();
  feed->ledger_server_ = *std::move(ledger);
  auto customer =
      Serve({feed->customer_events_.get(), &feed->tenant_settings_}, feed->customer_address_);
  if (!customer.ok()) return customer.status();
  feed->customer_server_ = *std::move(customer);
  return feed;
}

void ReportFeed::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  ledger_events_->Shutdown();
  customer_events_->Shutdown();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  ledger_server_->Shutdown(deadline);
  customer_server_->Shutdown(deadline);
}

ReportFeed::~ReportFeed() { Shutdown(); }

}  // namespace kelola::bench
