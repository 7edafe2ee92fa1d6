#include "gateway/cache/card_invalidator.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "libs/events/event_service.h"
#include "libs/log/log.h"
#include "libs/threads/thread_name.h"

namespace kelola::gateway {
namespace {

constexpr char kCursorKey[] = "kelola:card-invalidation:cursor";
constexpr char kLedgerAggregate[] = "customer";

// Raises the stored cursor, never lowers it (replicas write it concurrently).
const cache::RedisScript& RaiseCursor() {
  static const auto* script = new cache::RedisScript(
      "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
      "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end return 1");
  return *script;
}

}  // namespace

CardInvalidator::CardInvalidator(std::shared_ptr<grpc::Channel> ledger, CardCache& cache,
                                 cache::RedisPool& redis, CardInvalidatorOptions options)
    : stub_(events::v1::EventService::NewStub(std::move(ledger))),
      cache_(cache),
      redis_(redis),
      options_(std::move(options)) {}

CardInvalidator::~CardInvalidator() { Stop(); }

void CardInvalidator::Start() {
  thread_ = threads::Start("card-invalidate", [this] { Run(); });
}

void CardInvalidator::Stop() {
  if (stopping_.exchange(true)) return;
  {
    absl::MutexLock lock(&mu_);
    if (stream_ != nullptr) stream_->TryCancel();
  }
  stopped_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int64_t> CardInvalidator::StoredCursor() {
  auto reply = redis_.Command({"GET", kCursorKey});
  if (!reply.ok()) return reply.status();
  int64_t cursor = 0;
  if (reply->type == cache::RedisReply::Type::kString && absl::SimpleAtoi(reply->text, &cursor)) {
    return cursor;
  }
  auto head = HeadSequence();  // no cursor: the cache holds nothing older to invalidate
  if (!head.ok()) return head.status();
  StoreCursor(*head);
  return *head;
}

void CardInvalidator::StoreCursor(int64_t sequence) {
  const std::string value = absl::StrCat(sequence);
  const absl::string_view keys[] = {kCursorKey};
  const absl::string_view args[] = {value};
  (void)redis_.EvalScript(RaiseCursor(), keys, args);
}

absl::StatusOr<int64_t> CardInvalidator::HeadSequence() {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  events::AddAllTenantsScope(context, options_.internal_key);
  events::v1::WatchEventsRequest request;
  request.set_after_sequence(std::numeric_limits<int64_t>::max());
  auto reader = stub_->WatchEvents(&context, request);
  events::v1::WatchEventsResponse ignored;
  while (reader->Read(&ignored)) {
  }
  const absl::Status status = errors::FromGrpcStatus(reader->Finish());
  int64_t head = 0;
  if (status.code() == absl::StatusCode::kOutOfRange &&
      absl::SimpleAtoi(errors::GetMetadata(status)["head_sequence"], &head)) {
    return head;
  }
  return status.ok() ? absl::UnavailableError("ledger-svc did not name its head") : status;
}

grpc::Status CardInvalidator::Follow() {
  auto cursor = StoredCursor();
  if (!cursor.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, cursor.status().ToString());
  grpc::ClientContext context;
  events::AddAllTenantsScope(context, options_.internal_key);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_.load()) return grpc::Status::CANCELLED;
    stream_ = &context;
  }
  events::v1::WatchEventsRequest request;
  request.set_after_sequence(*cursor);
  auto reader = stub_->WatchEvents(&context, request);
  events::v1::WatchEventsResponse response;
  int since_store = 0;
  int64_t last = *cursor;
  grpc::Status outcome;
  while (reader->Read(&response)) {
    if (response.has_event()) {
      const type::v1::Event& event = response.event();
      if (event.aggregate_type() == kLedgerAggregate) {
        absl::Status noted =
            cache_.NoteWritten(event.tenant_id(), event.aggregate_id(), event.aggregate_version());
        if (!noted.ok()) {
          // The cursor must not pass an invalidation that did not happen: start again
          // from the stored one once Redis answers.
          outcome = grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(noted.message()));
          context.TryCancel();
          break;
        }
      }
      last = event.sequence();
      if (++since_store < options_.cursor_every) {
        applied_.store(last);
        continue;
      }
    } else {
      last = std::max(last, response.heartbeat().head_sequence());
    }
    StoreCursor(last);
    applied_.store(last);
    since_store = 0;
  }
  if (outcome.ok()) StoreCursor(last);
  {
    absl::MutexLock lock(&mu_);
    stream_ = nullptr;
  }
  const grpc::Status finished = reader->Finish();
  return outcome.ok() ? finished : outcome;
}

void CardInvalidator::Run() {
  absl::Duration backoff = options_.min_backoff;
  while (!stopping_.load()) {
    const grpc::Status status = Follow();
    if (stopping_.load()) break;
    log::Warn("card invalidation stream ended; reconnecting",
              {{"code", absl::StrCat(status.error_code())}, {"error", status.error_message()}});
    if (stopped_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace kelola::gateway
