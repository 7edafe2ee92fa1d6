#pragma once

// Consumes another service's event stream into this service's database, many events per
// transaction. One thread reads the stream into a bounded queue; another applies what has
// queued up (at most max_batch events, waiting at most max_wait for more after the first)
// in one transaction that also moves the consumer's cursor to the batch's last event. So
// after any crash nothing is lost (the stream resumes from the stored cursor) and nothing is
// applied twice (events at or below the cursor are dropped inside the same transaction). A
// failed batch rolls back entirely, cursor included, and is retried after a backoff.
// A consumer follows every tenant's events (the internal all-tenants form of WatchEvents).
//
// Several replicas of a consumer may run; one of them at a time is active. The cursor row
// carries a lease (holder, lease_until_us): the replica holding it streams and applies,
// and renews it with each batch (or, when idle, every lease/3); the others only look
// every lease/5 whether it lapsed, and take it over then. So a crashed holder's stream
// resumes elsewhere within about one lease, and a stopped one hands over at once (Stop
// releases the lease). The lease saves work, it does not guard correctness: each batch
// also locks the cursor row and drops what is at or below the cursor, so even two
// replicas that both believe they hold the lease (clocks apart by more than a lease)
// never apply an event twice.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
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
#include "libs/clock/clock.h"
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
  // How long the active replica's lease lasts without a renewal (see the top of this file).
  absl::Duration lease = absl::Seconds(5);
  // This replica's name in the lease; "" = host name, process id and a random suffix.
  std::string holder;
  // The clock of lease times; null = the system clock. Replicas compare their clocks
  // through the lease, so they should agree to well within a lease (NTP does).
  const Clock* clock = nullptr;
};

// The lease a batch is applied under (EventConsumer::ApplyBatch).
struct CursorLease {
  std::string holder;
  absl::Time now;  // when the batch started: the lease is checked against it
  absl::Duration lease;
  // Read again when the batch moves the cursor, so that the renewed lease runs from the
  // end of a long batch, not from its start; null = `now`.
  const Clock* clock = nullptr;
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
  // True while this replica holds the lease (is the active one).
  bool active() const;

  // The stored cursor of (consumer, producer); 0 when none.
  static absl::StatusOr<int64_t> LoadCursor(db::Database& db, const std::string& consumer,
                                            const std::string& producer);

  // Applies `events` (in sequence order) in one transaction: those at or below the stored
  // cursor are dropped, the rest go to `handler` and the cursor moves to the last of them.
  // Returns the events applied (empty when all were already). On error nothing changed.
  // With `lease`, the batch is applied only if no other holder's lease is running
  // (ABORTED with reason CONSUMER_LEASE_LOST otherwise), and the lease is renewed with it.
  static absl::StatusOr<std::vector<const type::v1::Event*>> ApplyBatch(
      db::Database& db, const std::string& consumer, const std::string& producer,
      absl::Span<const type::v1::Event> events, const BatchHandler& handler,
      const CursorLease* lease = nullptr);

 private:
  void ReadLoop();
  void ApplyLoop();
  CursorLease Lease() const;
  // Creates the cursor row if missing and takes the lease if it is free, lapsed or ours.
  // Returns the cursor when taken, nullopt when another replica holds it.
  absl::StatusOr<std::optional<int64_t>> TryAcquire();
  // Extends the lease when a third of it has passed without a batch; false when lost.
  absl::StatusOr<bool> RenewIfDue();
  // Sets this replica's lease to end at `until`; false when another replica holds it.
  absl::StatusOr<bool> SetOwnLease(absl::Time until);
  // Becomes active from `cursor` (the reader then opens a stream from there) or stops
  // being active (the stream is cancelled and what was queued is dropped).
  void Activate(int64_t cursor);
  void Deactivate();
  // Gives the lease up, so that a standby replica takes over without waiting it out.
  void Release();
  // Takes the next batch from the queue; empty when stopping or nothing arrived.
  std::vector<type::v1::Event> NextBatch();
  // Sleeps for the backoff plus jitter (returning early on Stop) and doubles it.
  void Backoff(absl::Duration& backoff);
  // Sleeps for `duration`, returning early on Stop.
  void Pause(absl::Duration duration);

  struct Queued {
    type::v1::Event event;
    absl::Time arrived;
    int64_t bytes = 0;
  };

  db::Database& db_;
  std::unique_ptr<kelola::events::v1::EventService::Stub> stub_;
  ConsumerOptions options_;
  const Clock& clock_;
  BatchHandler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  absl::Time renewed_;  // applier thread only: when the lease was last taken or renewed
  mutable absl::Mutex mu_;
  // Counts activations and deactivations: a stream opened under an earlier one queues
  // nothing more (it may be ahead of the cursor the next activation starts from).
  int64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t received_ ABSL_GUARDED_BY(mu_) = 0;  // last sequence queued
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread reader_;
  std::thread applier_;
};

}  // namespace kelola::events
