#include "libs/events/event_consumer.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/events/event_service.h"
#include "libs/log/log.h"

namespace kelola::events {
namespace {

BatchHandler EventByEvent(EventHandler handler) {
  return [handler = std::move(handler)](db::Transaction& tx,
                                        absl::Span<const type::v1::Event> events) -> absl::Status {
    for (const type::v1::Event& event : events) {
      if (absl::Status s = handler(tx, event); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
}

}  // namespace

EventConsumer::EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel,
                             ConsumerOptions options, BatchHandler handler)
    : db_(db),
      stub_(kelola::events::v1::EventService::NewStub(std::move(channel))),
      options_(std::move(options)),
      handler_(std::move(handler)) {
  options_.max_batch = std::max(options_.max_batch, 1);
  options_.max_queued = std::max(options_.max_queued, options_.max_batch);
}

EventConsumer::EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel,
                             ConsumerOptions options, EventHandler handler)
    : EventConsumer(db, std::move(channel), std::move(options), EventByEvent(std::move(handler))) {}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
    queue_.clear();
    queued_bytes_ = 0;
    received_ = -1;
  }
  reader_ = std::thread([this] { ReadLoop(); });
  applier_ = std::thread([this] { ApplyLoop(); });
}

void EventConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (reader_.joinable()) reader_.join();
  if (applier_.joinable()) applier_.join();
}

int64_t EventConsumer::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

bool EventConsumer::WaitForApplied(int64_t sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, sequence]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return applied_ >= sequence; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

absl::StatusOr<int64_t> EventConsumer::LoadCursor(db::Database& db, const std::string& consumer,
                                                  const std::string& producer) {
  int64_t cursor = 0;
  absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows =
        tx.Query("SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ?",
                 {consumer, producer});
    if (!rows.ok()) return rows.status();
    cursor = rows->empty() ? 0 : rows->front().GetInt(0);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return cursor;
}

absl::StatusOr<std::vector<const type::v1::Event*>> EventConsumer::ApplyBatch(
    db::Database& db, const std::string& consumer, const std::string& producer,
    absl::Span<const type::v1::Event> events, const BatchHandler& handler) {
  std::vector<const type::v1::Event*> applied;
  absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    applied.clear();
    // Locks the cursor row so that two replicas never apply the same event.
    const char* select =
        tx.dialect() == db::Dialect::kPostgres
            ? "SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ? FOR UPDATE"
            : "SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ?";
    auto rows = tx.Query(select, {consumer, producer});
    if (!rows.ok()) return rows.status();
    const bool exists = !rows->empty();
    const int64_t cursor = exists ? rows->front().GetInt(0) : 0;
    size_t first = 0;
    while (first < events.size() && events[first].sequence() <= cursor) ++first;
    if (first == events.size()) return absl::OkStatus();  // all applied already
    const absl::Span<const type::v1::Event> fresh = events.subspan(first);
    if (absl::Status handled = handler(tx, fresh); !handled.ok()) return handled;
    const int64_t last = fresh.back().sequence();
    auto moved =
        exists ? tx.Execute(
                     "UPDATE consumer_cursors SET sequence = ? WHERE consumer = ? AND producer = ?",
                     {last, consumer, producer})
               : tx.Execute(
                     "INSERT INTO consumer_cursors (consumer, producer, sequence) VALUES (?, ?, ?)",
                     {consumer, producer, last});
    if (!moved.ok()) return moved.status();
    for (const type::v1::Event& event : fresh) applied.push_back(&event);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied;
}

void EventConsumer::Backoff(absl::Duration& backoff) {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(0, absl::ToInt64Milliseconds(backoff) / 2);
  const absl::Time until = absl::Now() + backoff + absl::Milliseconds(jitter(random));
  while (!stopping_ && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
  backoff = std::min(backoff * 2, options_.max_backoff);
}

bool EventConsumer::PrepareCursor(int64_t& cursor, absl::Duration& backoff) {
  while (!stopping_) {
    absl::Status ensured = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
      return tx
          .Execute(
              "INSERT INTO consumer_cursors (consumer, producer, sequence) VALUES (?, ?, 0) "
              "ON CONFLICT (consumer, producer) DO NOTHING",
              {options_.consumer, options_.producer})
          .status();
    });
    if (ensured.ok()) {
      absl::StatusOr<int64_t> loaded = LoadCursor(db_, options_.consumer, options_.producer);
      if (loaded.ok()) {
        cursor = *loaded;
        return true;
      }
      ensured = loaded.status();
    }
    log::Warn("cannot read event cursor",
              {{"consumer", options_.consumer}, {"error", std::string(ensured.message())}});
    Backoff(backoff);
  }
  return false;
}

void EventConsumer::ReadLoop() {
  absl::Duration backoff = options_.min_backoff;
  while (!stopping_) {
    int64_t after = 0;
    {
      absl::MutexLock lock(&mu_);
      after = received_;
    }
    if (after < 0) {  // first connection: resume from the stored cursor
      if (!PrepareCursor(after, backoff)) break;
      absl::MutexLock lock(&mu_);
      received_ = after;
      applied_ = std::max(applied_, after);
    }
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      context_ = &context;
    }
    // A projection follows every tenant: the internal all-tenants form of the stream.
    AddAllTenantsScope(context, options_.internal_key);
    kelola::events::v1::WatchEventsRequest request;
    request.set_after_sequence(after);
    request.set_max_batch(options_.max_batch);
    auto reader = stub_->WatchEvents(&context, request);
    kelola::events::v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      connected_ = true;
      backoff = options_.min_backoff;
      if (!response.has_event()) continue;  // heartbeat
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || queue_.empty() ||
               (static_cast<int>(queue_.size()) < options_.max_queued &&
                queued_bytes_ < options_.max_queued_bytes);
      };
      mu_.Await(absl::Condition(&room));
      if (stopping_) break;
      if (response.event().sequence() <= received_) continue;
      received_ = response.event().sequence();
      const auto bytes = static_cast<int64_t>(response.event().ByteSizeLong());
      queued_bytes_ += bytes;
      queue_.push_back({std::move(*response.mutable_event()), absl::Now(), bytes});
    }
    if (stopping_) context.TryCancel();
    grpc::Status finished = reader->Finish();
    connected_ = false;
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
    }
    if (stopping_) break;
    // A refusal (the cursor ahead of the producer's log after a restore, say) does not go
    // away by retrying; dropped connections and shutdowns do.
    const grpc::StatusCode code = finished.error_code();
    const bool transient = code == grpc::StatusCode::UNAVAILABLE ||
                           code == grpc::StatusCode::CANCELLED ||
                           code == grpc::StatusCode::DEADLINE_EXCEEDED;
    log::Write(transient ? log::Level::kDebug : log::Level::kWarn, "event stream ended",
               {{"consumer", options_.consumer}, {"error", finished.error_message()}});
    Backoff(backoff);
  }
}

std::vector<type::v1::Event> EventConsumer::NextBatch() {
  std::vector<type::v1::Event> batch;
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(200));
  if (stopping_ || queue_.empty()) return batch;
  // Waits for a fuller batch, but no longer than max_wait after its first event arrived.
  auto full = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stopping_ || static_cast<int>(queue_.size()) >= options_.max_batch ||
           queued_bytes_ >= options_.max_queued_bytes;
  };
  mu_.AwaitWithDeadline(absl::Condition(&full), queue_.front().arrived + options_.max_wait);
  if (stopping_) return batch;
  batch.reserve(std::min<size_t>(queue_.size(), options_.max_batch));
  int64_t batch_bytes = 0;
  while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch &&
         (batch.empty() || batch_bytes + queue_.front().bytes <= options_.max_queued_bytes)) {
    batch_bytes += queue_.front().bytes;
    queued_bytes_ -= queue_.front().bytes;
    batch.push_back(std::move(queue_.front().event));
    queue_.pop_front();
  }
  return batch;
}

void EventConsumer::ApplyLoop() {
  absl::Duration backoff = options_.min_backoff;
  std::vector<type::v1::Event> batch;
  while (!stopping_) {
    if (batch.empty()) batch = NextBatch();
    if (batch.empty() || stopping_) continue;
    auto applied = ApplyBatch(db_, options_.consumer, options_.producer, batch, handler_);
    if (!applied.ok()) {
      // Nothing of the batch was kept; it is retried as it was.
      log::Warn("events not applied; will retry",
                {{"consumer", options_.consumer},
                 {"first_sequence", absl::StrCat(batch.front().sequence())},
                 {"last_sequence", absl::StrCat(batch.back().sequence())},
                 {"error", std::string(applied.status().message())}});
      Backoff(backoff);
      continue;
    }
    backoff = options_.min_backoff;
    {
      absl::MutexLock lock(&mu_);
      applied_ = std::max(applied_, batch.back().sequence());
    }
    if (!applied->empty()) {
      if (options_.on_applied) {
        for (const type::v1::Event* event : *applied) options_.on_applied(*event);
      }
      if (options_.on_batch) options_.on_batch(static_cast<int>(applied->size()));
    }
    batch.clear();
  }
}

}  // namespace kelola::events
