#include "libs/events/event_service.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/crypto/hmac.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"
#include "libs/time/time.h"

namespace kelola::events {

using kelola::events::v1::WatchEventsRequest;
using kelola::events::v1::WatchEventsResponse;

namespace {

constexpr char kDomain[] = "events.kelola.id";

std::string Metadata(const grpc::ServerContext& context, const char* key) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(key);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

// Sends a heartbeat reporting `head`; false when the client went away.
bool SendHeartbeat(grpc::ServerWriter<WatchEventsResponse>* writer, int64_t head) {
  WatchEventsResponse response;
  response.mutable_heartbeat()->set_head_sequence(head);
  *response.mutable_heartbeat()->mutable_time() = time::ToTimestamp(absl::Now());
  return writer->Write(response);
}

bool HasMetadata(const grpc::ServerContext& context, const char* key) {
  return context.client_metadata().find(key) != context.client_metadata().end();
}

}  // namespace

std::vector<std::string> EventTypesOf(const google::protobuf::FileDescriptor* file) {
  absl::flat_hash_set<const google::protobuf::Descriptor*> parts;
  auto collect = [&](const google::protobuf::Descriptor* message, auto& self) -> void {
    for (int f = 0; f < message->field_count(); ++f) {
      if (message->field(f)->message_type() != nullptr) {
        parts.insert(message->field(f)->message_type());
      }
    }
    for (int n = 0; n < message->nested_type_count(); ++n) self(message->nested_type(n), self);
  };
  for (int m = 0; m < file->message_type_count(); ++m) collect(file->message_type(m), collect);
  std::vector<std::string> types;
  for (int m = 0; m < file->message_type_count(); ++m) {
    if (!parts.contains(file->message_type(m))) types.push_back(file->message_type(m)->full_name());
  }
  return types;
}

bool IsLoopbackPeer(absl::string_view peer) {
  return absl::StartsWith(peer, "ipv4:127.") || absl::StartsWith(peer, "ipv6:[::1]:") ||
         absl::StartsWith(peer, "ipv6:[::ffff:127.");
}

bool AllTenantsAllowed(absl::string_view internal_key, const std::string* sent_key,
                       absl::string_view peer) {
  if (internal_key.empty()) return IsLoopbackPeer(peer);
  return sent_key != nullptr && crypto::ConstantTimeEquals(*sent_key, internal_key);
}

void AddAllTenantsScope(grpc::ClientContext& context, const std::string& internal_key) {
  context.AddMetadata(kEventScopeHeader, kAllTenantsScope);
  if (!internal_key.empty()) context.AddMetadata(kInternalKeyHeader, internal_key);
}

absl::StatusOr<std::string> StreamTenant(const grpc::ServerContext& context,
                                         const WatchEventsRequest& request,
                                         absl::string_view internal_key) {
  if (HasMetadata(context, kEventScopeHeader)) {
    // The internal all-tenants form (projections of every tenant); the request's tenant_id
    // may still narrow it to one tenant.
    errors::FieldErrors invalid;
    if (Metadata(context, kEventScopeHeader) != kAllTenantsScope) {
      invalid.Add(kEventScopeHeader, absl::StrCat("must be \"", kAllTenantsScope, "\""));
    }
    if (HasMetadata(context, server::kTenantHeader)) {
      invalid.Add(server::kTenantHeader,
                  absl::StrCat("must not be sent with ", kEventScopeHeader,
                               " (a tenant's stream: send only the tenant)"));
    }
    if (!invalid.empty()) return invalid.ToStatus();
    std::optional<std::string> sent_key;
    if (HasMetadata(context, kInternalKeyHeader)) sent_key = Metadata(context, kInternalKeyHeader);
    if (!AllTenantsAllowed(internal_key, sent_key ? &*sent_key : nullptr, context.peer())) {
      return errors::Error(
          absl::StatusCode::kPermissionDenied, kReasonEventScopeDenied,
          absl::StrCat(kEventScopeHeader, ": ", kAllTenantsScope, " is only for internal callers (",
                       internal_key.empty() ? "from this machine"
                                            : absl::StrCat("with a valid ", kInternalKeyHeader),
                       "); send x-kelola-tenant for your tenant's stream"));
    }
    return request.tenant_id();
  }
  auto caller = server::ReadRequestContext(context);
  if (!caller.ok()) return caller.status();
  if (!request.tenant_id().empty() && request.tenant_id() != caller->tenant_id) {
    // Another tenant's stream does not exist for this caller (never a leak of existence).
    return errors::Error(absl::StatusCode::kNotFound, "TENANT_NOT_FOUND",
                         "tenant_id: no such tenant");
  }
  return caller->tenant_id;
}

absl::Status EventServiceImpl::Validate(const WatchEventsRequest& request) const {
  errors::FieldErrors invalid;
  if (request.after_sequence() < 0) invalid.Add("after_sequence", "must be 0 or more");
  if (request.max_batch() < 0) invalid.Add("max_batch", "must be 0 (default) or more");
  for (int i = 0; i < request.types_size(); ++i) {
    if (!event_types_.contains(request.types(i))) {
      invalid.Add(absl::StrCat("types[", i, "]"),
                  absl::StrCat("\"", request.types(i),
                               "\" is not an event type of this service (a payload's full "
                               "name, e.g. \"kelola.ledger.v1.SaleRecorded\")"));
    }
  }
  return invalid.ToStatus();
}

absl::Status EventServiceImpl::CheckPosition(int64_t after_sequence) {
  if (after_sequence == 0) return absl::OkStatus();
  int64_t head = 0;
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto read = ReadHeadSequence(tx);
        if (!read.ok()) return read.status();
        head = *read;
        return absl::OkStatus();
      },
      read_only);
  if (!status.ok()) return status;
  if (after_sequence <= head) return absl::OkStatus();
  return errors::Error(
      absl::StatusCode::kOutOfRange, "SEQUENCE_AHEAD",
      absl::StrCat("after_sequence ", after_sequence, " is beyond the newest event (", head,
                   "); was the producer's database restored? rebuild from 0 or ", head),
      {{"head_sequence", absl::StrCat(head)}});
}

grpc::Status EventServiceImpl::WatchEvents(grpc::ServerContext* context,
                                           const WatchEventsRequest* request,
                                           grpc::ServerWriter<WatchEventsResponse>* writer) {
  auto tenant = StreamTenant(*context, *request, options_.internal_key);
  if (!tenant.ok()) return errors::ToGrpcStatus(tenant.status(), kDomain);
  if (absl::Status valid = Validate(*request); !valid.ok()) {
    return errors::ToGrpcStatus(valid, kDomain);
  }
  if (absl::Status position = CheckPosition(request->after_sequence()); !position.ok()) {
    return errors::ToGrpcStatus(position, kDomain);
  }

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
    if (!status.ok()) return errors::ToGrpcStatus(status, kDomain);

    for (auto& event : events) {
      cursor = event.sequence();
      if (!tenant->empty() && event.tenant_id() != *tenant) continue;
      if (!types.empty() && !types.contains(event.type())) continue;
      WatchEventsResponse response;
      *response.mutable_event() = std::move(event);
      if (!writer->Write(response)) return grpc::Status::OK;  // the client went away
      last_sent = absl::Now();
    }
    if (static_cast<int>(events.size()) == batch) continue;  // more may be waiting

    // Every event up to `cursor` was read, and the last read found nothing newer: cursor
    // is the newest committed event (position checked above, so never beyond it).
    const absl::Duration idle = absl::Now() - last_sent;
    if (idle >= options_.heartbeat_interval) {
      if (!SendHeartbeat(writer, cursor)) return grpc::Status::OK;
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
      kDomain);
}

}  // namespace kelola::events
