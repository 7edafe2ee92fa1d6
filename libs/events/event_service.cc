#include "libs/events/event_service.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "libs/errors/errors.h"

namespace kelola::events {

using kelola::events::v1::WatchEventsRequest;
using kelola::events::v1::WatchEventsResponse;

grpc::Status EventServiceImpl::WatchEvents(grpc::ServerContext* context,
                                           const WatchEventsRequest* request,
                                           grpc::ServerWriter<WatchEventsResponse>* writer) {
  errors::FieldErrors invalid;
  if (request->after_sequence() < 0) invalid.Add("after_sequence", "must be 0 or more");
  if (request->max_batch() < 0) invalid.Add("max_batch", "must be 0 (default) or more");
  if (!invalid.empty()) return errors::ToGrpcStatus(invalid.ToStatus(), "events.kelola.id");

  const int batch = request->max_batch() == 0 ? options_.max_batch
                                              : std::min(request->max_batch(), options_.max_batch);
  const absl::flat_hash_set<std::string> types(request->types().begin(), request->types().end());
  int64_t cursor = request->after_sequence();
  absl::Time last_sent = absl::Now();
  db::TransactionOptions read_only;
  read_only.read_only = true;

  while (!context->IsCancelled() && !notifier_.shut_down()) {
    std::vector<type::v1::Event> events;
    absl::Status status = db_.InTransaction(
        [&](db::Transaction& tx) -> absl::Status {
          auto read = ReadEvents(tx, cursor, batch);
          if (!read.ok()) return read.status();
          events = *std::move(read);
          return absl::OkStatus();
        },
        read_only);
    if (!status.ok()) return errors::ToGrpcStatus(status, "events.kelola.id");

    for (auto& event : events) {
      cursor = event.sequence();
      if (!request->tenant_id().empty() && event.tenant_id() != request->tenant_id()) continue;
      if (!types.empty() && !types.contains(event.type())) continue;
      WatchEventsResponse response;
      *response.mutable_event() = std::move(event);
      if (!writer->Write(response)) return grpc::Status::OK;  // the client went away
      last_sent = absl::Now();
    }
    if (static_cast<int>(events.size()) == batch) continue;  // more may be waiting

    const absl::Duration idle = absl::Now() - last_sent;
    if (idle >= options_.heartbeat_interval) {
      WatchEventsResponse response;
      response.mutable_heartbeat()->set_head_sequence(cursor);
      *response.mutable_heartbeat()->mutable_time() =
          google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
              absl::ToUnixMicros(absl::Now()));
      if (!writer->Write(response)) return grpc::Status::OK;
      last_sent = absl::Now();
    }
    const absl::Duration until_heartbeat = options_.heartbeat_interval - (absl::Now() - last_sent);
    notifier_.WaitForNewerThan(
        cursor, std::max(absl::Milliseconds(1), std::min(options_.poll_interval, until_heartbeat)));
  }
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  return errors::ToGrpcStatus(
      errors::Error(absl::StatusCode::kUnavailable, "SHUTTING_DOWN",
                    "the server is shutting down; reconnect from your last sequence"),
      "events.kelola.id");
}

}  // namespace kelola::events
