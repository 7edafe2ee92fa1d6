#pragma once

// kelola.events.v1.EventService, served by every service that emits events:
// WatchEvents replays committed events after a position, then follows new ones live.
// Idle streams get a heartbeat carrying the newest sequence examined. A stream ends
// with UNAVAILABLE when the server shuts down; clients reconnect from their cursor.
//
// Tenancy: a stream is scoped to the caller's tenant (x-kelola-tenant, as every other
// call); a request naming another tenant is NOT_FOUND. Only the internal all-tenants
// form (metadata x-kelola-event-scope: all-tenants, sent by events::EventConsumer for the
// projections that follow every tenant) reads across tenants, and only from an internal
// caller: with an internal key configured (--internal_key_file), the request must carry
// it in x-kelola-internal-key; without one, only loopback peers may use the form. Anything
// else is PERMISSION_DENIED (EVENT_SCOPE_DENIED). The gateway never forwards EventService
// calls (docs/architecture.md, "Events").

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"

namespace kelola::events {

// The request metadata of the internal all-tenants form of WatchEvents, and its one value.
inline constexpr char kEventScopeHeader[] = "x-kelola-event-scope";
inline constexpr char kAllTenantsScope[] = "all-tenants";
// The request metadata carrying the internal key (server::InternalKeyOrDie).
inline constexpr char kInternalKeyHeader[] = "x-kelola-internal-key";
// PERMISSION_DENIED: the all-tenants form from a caller that is not internal.
inline constexpr char kReasonEventScopeDenied[] = "EVENT_SCOPE_DENIED";

struct WatchOptions {
  absl::Duration heartbeat_interval = absl::Seconds(5);
  // Fallback poll for events committed by other replicas of the same service.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // Upper bound of events read per database round trip (and so buffered per stream).
  int max_batch = 256;
  // The internal key the all-tenants form must carry; "" = that form only from loopback
  // peers (AllTenantsAllowed).
  std::string internal_key;
};

// True when a peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", as grpc::ServerContext::peer)
// is on this machine.
bool IsLoopbackPeer(absl::string_view peer);

// Whether a caller may use the all-tenants form. With `internal_key` configured: iff it
// sent exactly that key (`sent_key`, nullptr when the header is absent; compared in
// constant time), whatever its address. Without one: iff `peer` is loopback.
bool AllTenantsAllowed(absl::string_view internal_key, const std::string* sent_key,
                       absl::string_view peer);

// Adds the metadata of the internal all-tenants form to a WatchEvents call: the scope,
// and `internal_key` unless it is empty.
void AddAllTenantsScope(grpc::ClientContext& context, const std::string& internal_key);

// The event types a service emits: the full names of the top-level messages of its
// events.proto (`file`) that no other message of that file uses as a field type (those
// are parts of payloads, e.g. kelola.ledger.v1.SalePosition, never events themselves).
std::vector<std::string> EventTypesOf(const google::protobuf::FileDescriptor* file);

class EventServiceImpl final : public kelola::events::v1::EventService::Service {
 public:
  // `event_types`: every Event.type this service emits; a request filtering on any other
  // type is INVALID_ARGUMENT.
  EventServiceImpl(db::Database& db, EventNotifier& notifier, std::vector<std::string> event_types,
                   WatchOptions options = {})
      : db_(db),
        notifier_(notifier),
        event_types_(event_types.begin(), event_types.end()),
        options_(options) {}

  grpc::Status WatchEvents(
      grpc::ServerContext* context, const kelola::events::v1::WatchEventsRequest* request,
      grpc::ServerWriter<kelola::events::v1::WatchEventsResponse>* writer) override;

 private:
  // INVALID_ARGUMENT naming every bad field of the request.
  absl::Status Validate(const kelola::events::v1::WatchEventsRequest& request) const;
  // OUT_OF_RANGE (SEQUENCE_AHEAD) when `after_sequence` is beyond the newest event.
  absl::Status CheckPosition(int64_t after_sequence);

  db::Database& db_;
  EventNotifier& notifier_;
  const absl::flat_hash_set<std::string> event_types_;
  WatchOptions options_;
};

// The tenant a stream is scoped to, "" for the internal all-tenants form.
// UNAUTHENTICATED/INVALID_ARGUMENT for a missing or malformed x-kelola-tenant (as
// server::ReadRequestContext), INVALID_ARGUMENT for a malformed or conflicting
// x-kelola-event-scope, PERMISSION_DENIED (EVENT_SCOPE_DENIED) for the all-tenants form
// from a caller AllTenantsAllowed refuses, NOT_FOUND (TENANT_NOT_FOUND) when the request
// names a tenant other than the caller's.
absl::StatusOr<std::string> StreamTenant(const grpc::ServerContext& context,
                                         const kelola::events::v1::WatchEventsRequest& request,
                                         absl::string_view internal_key);

}  // namespace kelola::events
