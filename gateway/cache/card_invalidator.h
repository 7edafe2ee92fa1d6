#pragma once

// Follows ledger-svc's event stream (every tenant) and tells the card cache of each new
// ledger version of a customer (CardCache::NoteWritten), so a card changed by anything --
// a write through another gateway, a merge moving history -- stops being served.
//
// Its position is kept in Redis next to the cards it guards (key
// kelola:card-invalidation:cursor): a Redis that lost its data lost the cards too, and then
// following starts at the stream's head (asked of ledger-svc with an after_sequence beyond
// it: the OUT_OF_RANGE answer names the head). Every gateway replica follows the stream;
// NoteWritten is idempotent, so the repetition only costs Redis work.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/cache/card_cache.h"
#include "grpcpp/grpcpp.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "libs/cache/redis_pool.h"

namespace kelola::gateway {

struct CardInvalidatorOptions {
  std::string internal_key;  // the all-tenants stream's key (server::InternalKeyOrDie)
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  int cursor_every = 256;  // events between cursor writes (and at every heartbeat)
};

class CardInvalidator {
 public:
  CardInvalidator(std::shared_ptr<grpc::Channel> ledger, CardCache& cache, cache::RedisPool& redis,
                  CardInvalidatorOptions options);
  ~CardInvalidator();

  void Start();
  void Stop();
  // The last ledger sequence whose invalidation is done (0 before the first).
  int64_t applied() const { return applied_.load(); }

 private:
  void Run();
  // One stream from the stored cursor until it ends; the status it ended with.
  grpc::Status Follow();
  absl::StatusOr<int64_t> StoredCursor();
  void StoreCursor(int64_t sequence);
  absl::StatusOr<int64_t> HeadSequence();

  std::unique_ptr<events::v1::EventService::Stub> stub_;
  CardCache& cache_;
  cache::RedisPool& redis_;
  const CardInvalidatorOptions options_;
  std::atomic<int64_t> applied_{0};
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  grpc::ClientContext* stream_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Notification stopped_;
  std::thread thread_;
};

}  // namespace kelola::gateway
