#include "libs/events/event_consumer.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "libs/events/event_service.h"
#include "libs/log/log.h"

namespace kelola::events {

EventConsumer::EventConsumer(db::Database& db, std::shared_ptr<grpc::Channel> channel,
                             ConsumerOptions options, EventHandler handler)
    : db_(db),
      stub_(kelola::events::v1::EventService::NewStub(std::move(channel))),
      options_(std::move(options)),
      handler_(std::move(handler)) {}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void EventConsumer::Stop() {
  stopping_ = true;
  {
    absl::MutexLock lock(&mu_);
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t EventConsumer::applied() const {
  absl::MutexLock lock(&applied_mu_);
  return applied_;
}

bool EventConsumer::WaitForApplied(int64_t sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&applied_mu_);
  auto done = [this, sequence]()
                  ABSL_SHARED_LOCKS_REQUIRED(applied_mu_) { return applied_ >= sequence; };
  return applied_mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
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

absl::Status EventConsumer::Apply(const type::v1::Event& event) {
  bool applied_now = false;
  absl::Status status = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
    applied_now = false;
    // Locks the cursor row so that two replicas never apply the same event.
    const char* select =
        tx.dialect() == db::Dialect::kPostgres
            ? "SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ? FOR UPDATE"
            : "SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ?";
    auto rows = tx.Query(select, {options_.consumer, options_.producer});
    if (!rows.ok()) return rows.status();
    const int64_t cursor = rows->empty() ? 0 : rows->front().GetInt(0);
    if (event.sequence() <= cursor) return absl::OkStatus();  // already applied
    if (absl::Status handled = handler_(tx, event); !handled.ok()) return handled;
    auto updated =
        tx.Execute("UPDATE consumer_cursors SET sequence = ? WHERE consumer = ? AND producer = ?",
                   {event.sequence(), options_.consumer, options_.producer});
    if (!updated.ok()) return updated.status();
    applied_now = true;
    return absl::OkStatus();
  });
  if (status.ok()) {
    {
      absl::MutexLock lock(&applied_mu_);
      applied_ = std::max(applied_, event.sequence());
    }
    if (applied_now && options_.on_applied) options_.on_applied(event);
  }
  return status;
}

void EventConsumer::Run() {
  // The cursor row exists before any event is applied, so Apply only ever updates it.
  absl::Duration backoff = options_.min_backoff;
  std::mt19937_64 random(std::random_device{}());
  auto sleep_backoff = [&] {
    std::uniform_int_distribution<int64_t> jitter(0, absl::ToInt64Milliseconds(backoff) / 2);
    absl::Duration wait = backoff + absl::Milliseconds(jitter(random));
    const absl::Time until = absl::Now() + wait;
    while (!stopping_ && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    backoff = std::min(backoff * 2, options_.max_backoff);
  };

  while (!stopping_) {
    absl::Status ensured = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto inserted = tx.Execute(
          "INSERT INTO consumer_cursors (consumer, producer, sequence) VALUES (?, ?, 0) "
          "ON CONFLICT (consumer, producer) DO NOTHING",
          {options_.consumer, options_.producer});
      return inserted.status();
    });
    if (ensured.ok()) break;
    log::Warn("cannot prepare event cursor",
              {{"consumer", options_.consumer}, {"error", std::string(ensured.message())}});
    sleep_backoff();
  }

  while (!stopping_) {
    auto cursor = LoadCursor(db_, options_.consumer, options_.producer);
    if (!cursor.ok()) {
      log::Warn("cannot read event cursor", {{"consumer", options_.consumer},
                                             {"error", std::string(cursor.status().message())}});
      sleep_backoff();
      continue;
    }
    {
      absl::MutexLock lock(&applied_mu_);
      applied_ = std::max(applied_, *cursor);
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
    request.set_after_sequence(*cursor);
    request.set_max_batch(options_.max_batch);
    auto reader = stub_->WatchEvents(&context, request);
    kelola::events::v1::WatchEventsResponse response;
    bool failed = false;
    while (!failed && reader->Read(&response)) {
      connected_ = true;
      backoff = options_.min_backoff;
      if (!response.has_event()) continue;  // heartbeat
      absl::Status applied = Apply(response.event());
      if (!applied.ok()) {
        log::Warn("event not applied; will retry",
                  {{"consumer", options_.consumer},
                   {"sequence", absl::StrCat(response.event().sequence())},
                   {"type", response.event().type()},
                   {"error", std::string(applied.message())}});
        context.TryCancel();
        failed = true;
      }
    }
    grpc::Status finished = reader->Finish();
    connected_ = false;
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
    }
    if (stopping_) break;
    if (!finished.ok() && !failed) {
      // A refusal (the cursor ahead of the producer's log after a restore, say) does not
      // go away by retrying; dropped connections and shutdowns do.
      const grpc::StatusCode code = finished.error_code();
      const bool transient = code == grpc::StatusCode::UNAVAILABLE ||
                             code == grpc::StatusCode::CANCELLED ||
                             code == grpc::StatusCode::DEADLINE_EXCEEDED;
      log::Write(transient ? log::Level::kDebug : log::Level::kWarn, "event stream ended",
                 {{"consumer", options_.consumer}, {"error", finished.error_message()}});
    }
    sleep_backoff();
  }
}

}  // namespace kelola::events
