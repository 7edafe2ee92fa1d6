#pragma once

// The fake producers report-svc follows in the report benchmark: kelola.events.v1.
// EventService/WatchEvents served from a generated history instead of an outbox, with the
// real protocol (the all-tenants scope and tenant rules of events::StreamTenant, type
// filters, after_sequence with SEQUENCE_AHEAD, max_batch rounds, heartbeats once idle at the
// head), plus customer-svc's TenantService.GetTenantSettings (Asia/Jakarta, IDR). One gRPC
// server per producer, as the real services have, each on 127.0.0.1 and a free port.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "bench/report_feed/event_history.h"
#include "bench/report_feed/history_plan.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "kelola/events/v1/event_service.grpc.pb.h"

namespace kelola::bench {

class GeneratedEventService final : public kelola::events::v1::EventService::Service {
 public:
  // `head`: the number of events `make_history` yields; `event_types`: the payload types the
  // imitated service emits (what a request may filter on).
  GeneratedEventService(HistoryFactory make_history, int64_t head,
                        std::vector<std::string> event_types,
                        absl::Duration heartbeat_interval = absl::Seconds(5));

  grpc::Status WatchEvents(
      grpc::ServerContext* context, const kelola::events::v1::WatchEventsRequest* request,
      grpc::ServerWriter<kelola::events::v1::WatchEventsResponse>* writer) override;

  // Ends every stream (UNAVAILABLE, as a producer shutting down).
  void Shutdown() { shutdown_.Notify(); }
  // When the first stream was opened (InfiniteFuture before).
  absl::Time first_stream() const;
  int streams_opened() const { return streams_.load(); }

 private:
  absl::Status Check(const grpc::ServerContext& context,
                     const kelola::events::v1::WatchEventsRequest& request,
                     std::string& tenant) const;
  // Follows the head with heartbeats until the client leaves or the server shuts down.
  grpc::Status Idle(grpc::ServerContext& context,
                    grpc::ServerWriter<kelola::events::v1::WatchEventsResponse>& writer);

  const HistoryFactory make_history_;
  const int64_t head_;
  const absl::flat_hash_set<std::string> event_types_;
  const absl::Duration heartbeat_interval_;
  absl::Notification shutdown_;
  std::atomic<int> streams_{0};
  mutable absl::Mutex mu_;
  absl::Time first_stream_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

class FixedTenantSettings final : public kelola::customer::v1::TenantService::Service {
 public:
  grpc::Status GetTenantSettings(
      grpc::ServerContext* context, const kelola::customer::v1::GetTenantSettingsRequest* request,
      kelola::customer::v1::GetTenantSettingsResponse* response) override;
};

// Both producers of a history: ledger-svc's stream, and customer-svc's stream with its
// tenant settings.
class ReportFeed {
 public:
  // `ledger_head`: the number of ledger events of `plan` (LedgerHistory run to its end).
  static absl::StatusOr<std::unique_ptr<ReportFeed>> Start(const HistoryPlan& plan,
                                                           int64_t ledger_head);
  ~ReportFeed();

  std::string ledger_address() const { return ledger_address_; }
  std::string customer_address() const { return customer_address_; }
  const GeneratedEventService& ledger() const { return *ledger_events_; }
  const GeneratedEventService& customer() const { return *customer_events_; }
  void Shutdown();

 private:
  ReportFeed() = default;

  std::unique_ptr<GeneratedEventService> ledger_events_;
  std::unique_ptr<GeneratedEventService> customer_events_;
  FixedTenantSettings tenant_settings_;
  std::unique_ptr<grpc::Server> ledger_server_;
  std::unique_ptr<grpc::Server> customer_server_;
  std::string ledger_address_;
  std::string customer_address_;
  bool shut_down_ = false;
};

}  // namespace kelola::bench
