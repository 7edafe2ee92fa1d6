#include "report-svc/store/card_feed.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/events/event_consumer.h"
#include "libs/events/event_service.h"
#include "libs/log/log.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report::store {

CardFeed::CardFeed(db::Database& db, std::shared_ptr<grpc::Channel> ledger, CardFeedOptions options)
    : db_(db),
      stub_(kelola::events::v1::EventService::NewStub(std::move(ledger))),
      options_(options) {}

CardFeed::~CardFeed() { Stop(); }

void CardFeed::Start() {
  stopping_ = false;
  reader_ = std::thread([this] { ReadLoop(); });
  applier_ = std::thread([this] { ApplyLoop(); });
}

void CardFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (reader_.joinable()) reader_.join();
  if (applier_.joinable()) applier_.join();
}

int64_t CardFeed::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

bool CardFeed::WaitForApplied(int64_t sequence, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, sequence]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return applied_ >= sequence; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void CardFeed::Backoff(absl::Duration& backoff) {
  const absl::Time until = absl::Now() + backoff;
  while (!stopping_ && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
  backoff = std::min(backoff * 2, options_.max_backoff);
}

void CardFeed::ReadLoop() {
  absl::Duration backoff = options_.min_backoff;
  while (!stopping_) {
    int64_t after = 0;
    {
      absl::MutexLock lock(&mu_);
      after = received_;
    }
    if (after < 0) {  // first connection: resume from the stored cursor
      auto cursor = events::EventConsumer::LoadCursor(db_, kCardConsumer, kLedgerProducer);
      if (!cursor.ok()) {
        log::Warn("cannot read event cursor",
                  {{"consumer", kCardConsumer}, {"error", std::string(cursor.status().message())}});
        Backoff(backoff);
        continue;
      }
      absl::MutexLock lock(&mu_);
      received_ = after = *cursor;
      applied_ = std::max(applied_, *cursor);
    }
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      context_ = &context;
    }
    events::AddAllTenantsScope(context, options_.internal_key);
    kelola::events::v1::WatchEventsRequest request;
    request.set_after_sequence(after);
    request.set_max_batch(options_.max_batch);
    auto reader = stub_->WatchEvents(&context, request);
    kelola::events::v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      backoff = options_.min_backoff;
      if (!response.has_event()) continue;  // heartbeat
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || static_cast<int>(queue_.size()) < options_.max_queued;
      };
      mu_.Await(absl::Condition(&room));
      if (stopping_) break;
      if (response.event().sequence() <= received_) continue;
      received_ = response.event().sequence();
      queue_.push_back(std::move(*response.mutable_event()));
    }
    grpc::Status finished = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
    }
    if (stopping_) break;
    log::Write(finished.error_code() == grpc::StatusCode::UNAVAILABLE ? log::Level::kDebug
                                                                      : log::Level::kWarn,
               "event stream ended",
               {{"consumer", kCardConsumer}, {"error", finished.error_message()}});
    Backoff(backoff);
  }
}

void CardFeed::ApplyLoop() {
  absl::Duration backoff = options_.min_backoff;
  std::vector<type::v1::Event> batch;
  while (!stopping_) {
    if (batch.empty()) {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(200));
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty() || stopping_) continue;
    absl::StatusOr<int64_t> cursor = ApplyBatch(db_, kCardConsumer, kLedgerProducer, batch);
    if (!cursor.ok()) {
      log::Warn("events not applied; will retry",
                {{"consumer", kCardConsumer},
                 {"first_sequence", absl::StrCat(batch.front().sequence())},
                 {"error", std::string(cursor.status().message())}});
      Backoff(backoff);
      continue;
    }
    backoff = options_.min_backoff;
    batch.clear();
    absl::MutexLock lock(&mu_);
    applied_ = std::max(applied_, *cursor);
  }
}

}  // namespace kelola::report::store
