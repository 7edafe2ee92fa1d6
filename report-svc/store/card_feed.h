#pragma once

// Follows ledger-svc's event stream (the internal all-tenants form of WatchEvents) into the
// summary card projection, many events per transaction: an events::EventConsumer reads the
// stream into a bounded queue and applies what has queued up (at most max_batch events) in
// one transaction with the cursor. A failed batch rolls back and is retried after a
// backoff; a broken stream resumes after the last event received.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "libs/db/database.h"
#include "libs/events/event_consumer.h"

namespace kelola::report::store {

struct CardFeedOptions {
  // Events per transaction, at most. A catch-up writes every event's card: with 100,000
  // customers, batches of 2,048 dirtied nearly one card page (and one index page) per
  // event, 16,384 write each page once for several events (issue-size catch-up 18,065 →
  // 22,468 events/s, docs/benchmarks.md). Only a catch-up fills such batches; a lone
  // event still commits at once.
  int max_batch = 16384;
  int max_queued = 65536;  // events read ahead of the applier, at most (tens of MiB)
  absl::Duration max_wait = absl::Milliseconds(2);  // for a fuller batch, at most
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(5);
  // Sent with the all-tenants stream (events::AddAllTenantsScope); "" = none.
  std::string internal_key;
};

class CardFeed {
 public:
  CardFeed(db::Database& db, std::shared_ptr<grpc::Channel> ledger, CardFeedOptions options = {});

  // Starts reading and applying.
  void Start() { consumer_.Start(); }
  // Ends the stream and joins both threads; queued events not yet applied are dropped
  // (they are read again from the cursor next time).
  void Stop() { consumer_.Stop(); }

  // The cursor after the last committed batch (0 before any).
  int64_t applied() const { return consumer_.applied(); }
  // Waits until `sequence` is applied; false on timeout.
  bool WaitForApplied(int64_t sequence, absl::Duration timeout) const {
    return consumer_.WaitForApplied(sequence, timeout);
  }

 private:
  events::EventConsumer consumer_;
};

}  // namespace kelola::report::store
