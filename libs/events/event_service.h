#pragma once

// kelola.events.v1.EventService, served by every service that emits events:
// WatchEvents replays committed events after a position, then follows new ones live.
// Idle streams get a heartbeat carrying the position examined so far. A stream ends
// with UNAVAILABLE when the server shuts down; clients reconnect from their cursor.

#include "absl/time/time.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"

namespace kelola::events {

struct WatchOptions {
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // Fallback poll for events committed by other replicas of the same service.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // Upper bound of events read per database round trip (and so buffered per stream).
  int max_batch = 256;
};

class EventServiceImpl final : public kelola::events::v1::EventService::Service {
 public:
  EventServiceImpl(db::Database& db, EventNotifier& notifier, WatchOptions options = {})
      : db_(db), notifier_(notifier), options_(options) {}

  grpc::Status WatchEvents(
      grpc::ServerContext* context, const kelola::events::v1::WatchEventsRequest* request,
      grpc::ServerWriter<kelola::events::v1::WatchEventsResponse>* writer) override;

 private:
  db::Database& db_;
  EventNotifier& notifier_;
  WatchOptions options_;
};

}  // namespace kelola::events
