#pragma once

// Consumes another service's event stream into this service's database. Each event is
// applied in one transaction together with the consumer's cursor, so after any crash
// nothing is lost (the stream resumes from the stored cursor) and nothing is applied
// twice (an event at or below the cursor is skipped inside the same transaction).
// Several replicas of a consumer may run: the cursor row is locked while applying.
// A consumer follows every tenant's events (the internal all-tenants form of WatchEvents).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/db/database.h"

namespace kelola::events {

// Applies one event to the consumer's database inside the given transaction.
using EventHandler = std::function<absl::Status(db::Transaction&, const type::v1::Event&)>;

struct ConsumerOptions {
  std::string consumer;  // e.g. "customer-svc.stats"
  std::string producer;  // e.g. "ledger-svc"
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
  int max_batch = 256;
  // The internal key sent with the all-tenants stream (server::InternalKeyOrDie); "" = none
  // (the producer then serves the stream only to loopback peers).
  std::string internal_key;
  // Called after an event's transaction committed (not for events skipped as already
  // applied). For lag metrics and benchmarks; must be cheap.
  std::function<void(const type::v1::Event&)> on_applied;
};

class EventConsumer {
 public:
  EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel, ConsumerOptions options,
                EventHandler handler);
  ~EventConsumer();
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;

  // Starts the background thread that follows the stream.
  void Start();
  // Ends the stream and joins the thread. Events being applied finish first.
  void Stop();

  // The last sequence applied by this process (0 before any).
  int64_t applied() const;
  // Waits until `sequence` is applied; false on timeout.
  bool WaitForApplied(int64_t sequence, absl::Duration timeout) const;
  // True while a stream is open.
  bool connected() const { return connected_.load(); }

  // The stored cursor of (consumer, producer); 0 when none.
  static absl::StatusOr<int64_t> LoadCursor(db::Database& db, const std::string& consumer,
                                            const std::string& producer);

 private:
  void Run();
  // Applies one event exactly once. Returns its status.
  absl::Status Apply(const type::v1::Event& event);

  db::Database& db_;
  std::unique_ptr<kelola::events::v1::EventService::Stub> stub_;
  ConsumerOptions options_;
  EventHandler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  mutable absl::Mutex applied_mu_;
  int64_t applied_ ABSL_GUARDED_BY(applied_mu_) = 0;
  std::thread thread_;
};

}  // namespace kelola::events
