#include "libs/events/event_consumer.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/errors/errors.h"
#include "libs/events/event_service.h"
#include "libs/log/log.h"
#include "libs/threads/thread_name.h"

namespace kelola::events {
namespace {

constexpr char kLeaseLost[] = "CONSUMER_LEASE_LOST";

// The host name, the process id and a random suffix: unique among live replicas, and
// readable in the cursor table.
std::string DefaultHolder() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::mt19937_64 random(std::random_device{}());
  return absl::StrCat(host, "/", getpid(), "/", absl::Hex(random() & 0xffffffff));
}

BatchHandler EventByEvent(EventHandler handler) {
  return [handler = std::move(handler)](db::Transaction& tx,
                                        absl::Span<const type::v1::Event> events) -> absl::Status {
    for (const type::v1::Event& event : events) {
      if (absl::Status s = handler(tx, event); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
}

// The threads of a consumer are named after the last part of its name
// ("report-svc.cards" -> "cards-read", "cards-apply"), so that two consumers in one process
// are told apart; without a dot the whole name, "events" when it is empty. The part is cut
// so that "-apply" still fits in the bytes a thread's name keeps.
std::string ThreadNamePrefix(absl::string_view consumer) {
  constexpr size_t kMaxPrefix = threads::kMaxNameBytes - (sizeof("-apply") - 1);
  const size_t dot = consumer.rfind('.');
  absl::string_view last = dot == absl::string_view::npos ? consumer : consumer.substr(dot + 1);
  return last.empty() ? "events" : std::string(last.substr(0, kMaxPrefix));
}

}  // namespace

EventConsumer::EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel,
                             ConsumerOptions options, BatchHandler handler)
    : db_(db),
      stub_(kelola::events::v1::EventService::NewStub(std::move(channel))),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      handler_(std::move(handler)) {
  options_.max_batch = std::max(options_.max_batch, 1);
  options_.max_queued = std::max(options_.max_queued, options_.max_batch);
  options_.lease = std::max(options_.lease, absl::Milliseconds(50));
  if (options_.holder.empty()) options_.holder = DefaultHolder();
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
    active_ = false;
  }
  const std::string name = ThreadNamePrefix(options_.consumer);
  reader_ = threads::Start(absl::StrCat(name, "-read"), [this] { ReadLoop(); });
  applier_ = threads::Start(absl::StrCat(name, "-apply"), [this] { ApplyLoop(); });
}

void EventConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  const bool started = applier_.joinable();
  if (reader_.joinable()) reader_.join();
  if (applier_.joinable()) applier_.join();
  if (started && active()) Release();
  absl::MutexLock lock(&mu_);
  active_ = false;
}

bool EventConsumer::active() const {
  absl::MutexLock lock(&mu_);
  return active_;
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
    absl::Span<const type::v1::Event> events, const BatchHandler& handler,
    const CursorLease* lease) {
  std::vector<const type::v1::Event*> applied;
  absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    applied.clear();
    // Locks the cursor row so that two replicas never apply the same event.
    const char* select = tx.dialect() == db::Dialect::kPostgres
                             ? "SELECT sequence, holder, lease_until_us FROM consumer_cursors "
                               "WHERE consumer = ? AND producer = ? FOR UPDATE"
                             : "SELECT sequence, holder, lease_until_us FROM consumer_cursors "
                               "WHERE consumer = ? AND producer = ?";
    auto rows = tx.Query(select, {consumer, producer});
    if (!rows.ok()) return rows.status();
    const bool exists = !rows->empty();
    const int64_t cursor = exists ? rows->front().GetInt(0) : 0;
    if (lease != nullptr && exists && rows->front().GetText(1) != lease->holder &&
        rows->front().GetInt(2) > absl::ToUnixMicros(lease->now)) {
      return errors::Error(absl::StatusCode::kAborted, kLeaseLost,
                           "another replica holds this consumer's lease",
                           {{"consumer", consumer}, {"holder", rows->front().GetText(1)}});
    }
    size_t first = 0;
    while (first < events.size() && events[first].sequence() <= cursor) ++first;
    if (first == events.size()) return absl::OkStatus();  // all applied already
    const absl::Span<const type::v1::Event> fresh = events.subspan(first);
    if (absl::Status handled = handler(tx, fresh); !handled.ok()) return handled;
    const int64_t last = fresh.back().sequence();
    const std::string holder = lease != nullptr ? lease->holder : "";
    const int64_t until =
        lease != nullptr
            ? absl::ToUnixMicros((lease->clock != nullptr ? lease->clock->Now() : lease->now) +
                                 lease->lease)
            : 0;
    absl::StatusOr<int64_t> moved;
    if (!exists) {
      moved = tx.Execute(
          "INSERT INTO consumer_cursors (consumer, producer, sequence, holder, lease_until_us) "
          "VALUES (?, ?, ?, ?, ?)",
          {consumer, producer, last, holder, until});
    } else if (lease != nullptr) {
      moved = tx.Execute(
          "UPDATE consumer_cursors SET sequence = ?, holder = ?, lease_until_us = ? "
          "WHERE consumer = ? AND producer = ?",
          {last, holder, until, consumer, producer});
    } else {
      moved =
          tx.Execute("UPDATE consumer_cursors SET sequence = ? WHERE consumer = ? AND producer = ?",
                     {last, consumer, producer});
    }
    if (!moved.ok()) return moved.status();
    for (const type::v1::Event& event : fresh) applied.push_back(&event);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return applied;
}

CursorLease EventConsumer::Lease() const {
  return {options_.holder, clock_.Now(), options_.lease, &clock_};
}

absl::StatusOr<std::optional<int64_t>> EventConsumer::TryAcquire() {
  const CursorLease lease = Lease();
  std::optional<int64_t> cursor;
  absl::Status status = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
    // One statement: the row is created with the lease when there is none, and the lease
    // taken when it is free, lapsed or already ours, so two replicas that try at once
    // cannot both win. It returns the cursor only when the lease was taken.
    auto rows = tx.Query(
        "INSERT INTO consumer_cursors (consumer, producer, sequence, holder, lease_until_us) "
        "VALUES (?, ?, 0, ?, ?) ON CONFLICT (consumer, producer) DO UPDATE SET "
        "holder = excluded.holder, lease_until_us = excluded.lease_until_us "
        "WHERE consumer_cursors.holder = excluded.holder OR consumer_cursors.lease_until_us <= ? "
        "RETURNING sequence",
        {options_.consumer, options_.producer, lease.holder,
         absl::ToUnixMicros(lease.now + lease.lease), absl::ToUnixMicros(lease.now)});
    if (!rows.ok()) return rows.status();
    cursor = rows->empty() ? std::nullopt : std::optional<int64_t>(rows->front().GetInt(0));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (cursor.has_value()) renewed_ = lease.now;
  return cursor;
}

absl::StatusOr<bool> EventConsumer::RenewIfDue() {
  const CursorLease lease = Lease();
  if (lease.now - renewed_ < options_.lease / 3) return true;
  absl::StatusOr<bool> renewed = SetOwnLease(lease.now + lease.lease);
  if (renewed.ok() && *renewed) renewed_ = lease.now;
  return renewed;
}

absl::StatusOr<bool> EventConsumer::SetOwnLease(absl::Time until) {
  int64_t updated = 0;
  absl::Status status = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Execute(
        "UPDATE consumer_cursors SET lease_until_us = ? "
        "WHERE consumer = ? AND producer = ? AND holder = ?",
        {absl::ToUnixMicros(until), options_.consumer, options_.producer, options_.holder});
    if (!rows.ok()) return rows.status();
    updated = *rows;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return updated > 0;
}

void EventConsumer::Activate(int64_t cursor) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  active_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  received_ = cursor;
  applied_ = std::max(applied_, cursor);
}

void EventConsumer::Deactivate() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  active_ = false;
  queue_.clear();
  queued_bytes_ = 0;
  if (context_ != nullptr) context_->TryCancel();
}

void EventConsumer::Release() {
  // Lapsed at once: a standby takes over at its next look.
  absl::StatusOr<bool> released = SetOwnLease(absl::UnixEpoch());
  // Not fatal: a standby then waits for the lease to lapse.
  if (!released.ok()) {
    log::Warn(
        "cannot release event consumer lease",
        {{"consumer", options_.consumer}, {"error", std::string(released.status().message())}});
  }
}

void EventConsumer::Backoff(absl::Duration& backoff) {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(0, absl::ToInt64Milliseconds(backoff) / 2);
  Pause(backoff + absl::Milliseconds(jitter(random)));
  backoff = std::min(backoff * 2, options_.max_backoff);
}

void EventConsumer::Pause(absl::Duration duration) {
  const absl::Time until = absl::Now() + duration;
  while (!stopping_ && absl::Now() < until) {
    absl::SleepFor(std::min(absl::Milliseconds(10), until - absl::Now()));
  }
}

void EventConsumer::ReadLoop() {
  absl::Duration backoff = options_.min_backoff;
  while (!stopping_) {
    grpc::ClientContext context;
    int64_t after = 0;
    int64_t epoch = 0;
    {
      // Streams only while this replica is the active one.
      absl::MutexLock lock(&mu_);
      auto active = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || active_; };
      mu_.Await(absl::Condition(&active));
      if (stopping_) break;
      after = received_;
      epoch = epoch_;
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
      auto room = [this, epoch]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || epoch_ != epoch || queue_.empty() ||
               (static_cast<int>(queue_.size()) < options_.max_queued &&
                queued_bytes_ < options_.max_queued_bytes);
      };
      mu_.Await(absl::Condition(&room));
      if (stopping_ || epoch_ != epoch) break;
      if (response.event().sequence() <= received_) continue;
      received_ = response.event().sequence();
      const auto bytes = static_cast<int64_t>(response.event().ByteSizeLong());
      queued_bytes_ += bytes;
      queue_.push_back({std::move(*response.mutable_event()), absl::Now(), bytes});
    }
    context.TryCancel();  // a no-op when the stream already ended
    grpc::Status finished = reader->Finish();
    connected_ = false;
    bool handed_over = false;
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
      handed_over = epoch_ != epoch;
    }
    if (stopping_) break;
    // The lease was lost (or lost and taken again): follow the new state at once.
    if (handed_over) continue;
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
    if (!active()) {
      batch.clear();
      auto acquired = TryAcquire();
      if (!acquired.ok()) {
        log::Warn(
            "cannot take event consumer lease",
            {{"consumer", options_.consumer}, {"error", std::string(acquired.status().message())}});
        Backoff(backoff);
      } else if (acquired->has_value()) {
        // Debug: every start logs it; consumer_cursors.holder shows who is active.
        log::Write(log::Level::kDebug, "event consumer active",
                   {{"consumer", options_.consumer},
                    {"holder", options_.holder},
                    {"cursor", absl::StrCat(**acquired)}});
        backoff = options_.min_backoff;
        Activate(**acquired);
      } else {
        Pause(options_.lease / 5);  // standby: another replica holds the lease
      }
      continue;
    }
    if (batch.empty()) batch = NextBatch();
    if (stopping_) break;
    if (batch.empty()) {
      absl::StatusOr<bool> renewed = RenewIfDue();
      if (!renewed.ok()) {
        // The next batch checks the lease again, so a lapse meanwhile loses nothing.
        log::Warn(
            "cannot renew event consumer lease",
            {{"consumer", options_.consumer}, {"error", std::string(renewed.status().message())}});
        Backoff(backoff);
      } else if (!*renewed) {
        log::Info("event consumer lease lost", {{"consumer", options_.consumer}});
        Deactivate();
      }
      continue;
    }
    const CursorLease lease = Lease();
    auto applied = ApplyBatch(db_, options_.consumer, options_.producer, batch, handler_, &lease);
    if (!applied.ok()) {
      if (errors::Reason(applied.status()) == kLeaseLost) {
        log::Info("event consumer lease lost", {{"consumer", options_.consumer}});
        Deactivate();
        continue;
      }
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
      renewed_ = clock_.Now();  // the batch renewed the lease as it moved the cursor
      if (options_.on_applied) {
        for (const type::v1::Event* event : *applied) options_.on_applied(*event);
      }
      if (options_.on_batch) options_.on_batch(static_cast<int>(applied->size()));
    }
    batch.clear();
  }
}

}  // namespace kelola::events
