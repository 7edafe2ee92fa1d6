#pragma once

// Follows ledger-svc's event stream (the internal all-tenants form of WatchEvents) into the
// summary card projection, many events per transaction: one thread reads the stream into a
// bounded queue, another applies whatever has queued up (at most max_batch events) in one
// transaction with the cursor (store::ApplyBatch). A failed batch is retried as it was after
// a backoff; a broken stream resumes after the last event received.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/db/database.h"

namespace kelola::report::store {

struct CardFeedOptions {
  int max_batch = 512;    // events per transaction, at most
  int max_queued = 4096;  // events read ahead of the applier, at most
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
  // Sent with the all-tenants stream (events::AddAllTenantsScope); "" = none.
  std::string internal_key;
};

class CardFeed {
 public:
  CardFeed(db::Database& db, std::shared_ptr<grpc::Channel> ledger, CardFeedOptions options = {});
  ~CardFeed();
  CardFeed(const CardFeed&) = delete;
  CardFeed& operator=(const CardFeed&) = delete;

  // Starts reading and applying.
  void Start();
  // Ends the stream and joins both threads; queued events not yet applied are dropped
  // (they are read again from the cursor next time).
  void Stop();

  // The cursor after the last committed batch (0 before any).
  int64_t applied() const;
  // Waits until `sequence` is applied; false on timeout.
  bool WaitForApplied(int64_t sequence, absl::Duration timeout) const;

 private:
  void ReadLoop();
  void ApplyLoop();
  // Sleeps for the backoff (returning early on Stop) and doubles it.
  void Backoff(absl::Duration& backoff);

  db::Database& db_;
  std::unique_ptr<kelola::events::v1::EventService::Stub> stub_;
  const CardFeedOptions options_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::deque<type::v1::Event> queue_ ABSL_GUARDED_BY(mu_);
  int64_t received_ ABSL_GUARDED_BY(mu_) = -1;  // last sequence queued; -1: read the cursor
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread reader_;
  std::thread applier_;
};

}  // namespace kelola::report::store
