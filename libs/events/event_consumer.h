#pragma once

// Consumes another service's event stream into this service's database, many events per
// transaction. One thread reads the stream into a bounded queue; another applies what has
// queued up (at most max_batch events, waiting at most max_wait for more after the first)
// in one transaction that also moves the consumer's cursor to the batch's last event. So
// after any crash nothing is lost (the stream resumes from the stored cursor) and nothing is
// applied twice (events at or below the cursor are dropped inside the same transaction). A
// failed batch rolls back entirely, cursor included, and is retried after a backoff.
// Several replicas of a consumer may run: the cursor row is locked while applying.
// A consumer follows every tenant's events (the internal all-tenants form of WatchEvents).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "grpcpp/grpcpp.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/db/database.h"

namespace kelola::events {

// Applies a batch of events, in sequence order and all above the cursor, to the consumer's
// database inside the given transaction (the one that then moves the cursor).
using BatchHandler =
    std::function<absl::Status(db::Transaction&, absl::Span<const type::v1::Event>)>;
// Applies one event; a batch is then applied event by event in one transaction.
using EventHandler = std::function<absl::Status(db::Transaction&, const type::v1::Event&)>;

struct ConsumerOptions {
  std::string consumer;  // e.g. "customer-svc.stats"
  std::string producer;  // e.g. "ledger-svc"
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
  int max_batch = 512;    // events per transaction, at most (also asked of the producer)
  int max_queued = 4096;  // events read ahead of the applier, at most
  // Bytes of events read ahead, at most, and of one batch: large sales (hundreds of items)
  // then make smaller batches instead of a larger process. One event larger than this is
  // still taken, alone.
  int64_t max_queued_bytes = 64 << 20;
  // How long a batch waits for more events after its first one arrived; a lone event is
  // never delayed by more than this. Events that queued up while the previous batch
  // committed are taken without waiting.
  absl::Duration max_wait = absl::Milliseconds(2);
  // The internal key sent with the all-tenants stream (server::InternalKeyOrDie); "" = none
  // (the producer then serves the stream only to loopback peers).
  std::string internal_key;
  // Called for each event after its batch committed (not for events skipped as already
  // applied). For lag metrics and benchmarks; must be cheap.
  std::function<void(const type::v1::Event&)> on_applied;
  // Called after each committed transaction with its number of applied events. For tests
  // and metrics; must be cheap.
  std::function<void(int)> on_batch;
};

class EventConsumer {
 public:
  EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel, ConsumerOptions options,
                BatchHandler handler);
  EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel, ConsumerOptions options,
                EventHandler handler);
  ~EventConsumer();
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;

  // Starts the threads that follow the stream and apply it.
  void Start();
  // Ends the stream and joins the threads. A batch being applied finishes first; queued
  // events not yet applied are dropped (they are read again from the cursor next time).
  void Stop();

  // The cursor after the last batch committed by this process (or read at start; 0 before).
  int64_t applied() const;
  // Waits until `sequence` is applied; false on timeout.
  bool WaitForApplied(int64_t sequence, absl::Duration timeout) const;
  // True while a stream is open.
  bool connected() const { return connected_.load(); }

  // The stored cursor of (consumer, producer); 0 when none.
  static absl::StatusOr<int64_t> LoadCursor(db::Database& db, const std::string& consumer,
                                            const std::string& producer);

  // Applies `events` (in sequence order) in one transaction: those at or below the stored
  // cursor are dropped, the rest go to `handler` and the cursor moves to the last of them.
  // Returns the events applied (empty when all were already). On error nothing changed.
  static absl::StatusOr<std::vector<const type::v1::Event*>> ApplyBatch(
      db::Database& db, const std::string& consumer, const std::string& producer,
      absl::Span<const type::v1::Event> events, const BatchHandler& handler);

 private:
  void ReadLoop();
  void ApplyLoop();
  // Creates the cursor row (once) and reads the cursor; false when stopping.
  bool PrepareCursor(int64_t& cursor, absl::Duration& backoff);
  // Takes the next batch from the queue; empty when stopping or nothing arrived.
  std::vector<type::v1::Event> NextBatch();
  // Sleeps for the backoff plus jitter (returning early on Stop) and doubles it.
  void Backoff(absl::Duration& backoff);

  struct Queued {
    type::v1::Event event;
    absl::Time arrived;
    int64_t bytes = 0;
  };

  db::Database& db_;
  std::unique_ptr<kelola::events::v1::EventService::Stub> stub_;
  ConsumerOptions options_;
  BatchHandler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t received_ ABSL_GUARDED_BY(mu_) = -1;  // last sequence queued; -1: read the cursor
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread reader_;
  std::thread applier_;
};

}  // namespace kelola::events
