#pragma once

// A pool of Redis connections for hot paths (the gateway's card cache and rate limiter).
//
// - Concurrency: `connections` connections, each behind its own mutex. A caller takes the
//   first free one in round-robin order (try-lock), and only when all are busy queues on the
//   one with the fewest waiters, so lookups do not line up behind a single mutex.
// - Failure: every call is bounded by connect_timeout + command_timeout (50 ms by default:
//   a cache that answers slower than the backend is worse than none). A circuit breaker
//   (circuit_breaker.h) counts consecutive connection failures and timeouts; once open, calls
//   are answered UNAVAILABLE at once, without touching a socket, until a probe succeeds.
//   Redis error replies (WRONGTYPE, NOSCRIPT, ...) are answers, not failures.
// - Scripts: EvalScript sends EVALSHA and falls back to EVAL on NOSCRIPT, which also caches
//   the script again, so scripts survive a Redis restart or SCRIPT FLUSH.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "libs/cache/circuit_breaker.h"
#include "libs/cache/redis_connection.h"
#include "libs/cache/redis_script.h"
#include "libs/clock/clock.h"

namespace kelola::cache {

struct RedisPoolOptions {
  // Address and database. Its two timeouts are replaced by the pool's below.
  RedisOptions server;
  int connections = 16;
  absl::Duration connect_timeout = absl::Milliseconds(100);
  absl::Duration command_timeout = absl::Milliseconds(50);
  CircuitBreakerOptions breaker;
  // Times the breaker's cool-down; null means the real clock.
  const Clock* clock = nullptr;
};

// One EVALSHA of a batch.
struct ScriptCall {
  RedisArgs keys;
  RedisArgs args;
  const RedisScript* script = nullptr;  // null: the batch's script
};

class RedisPool {
 public:
  explicit RedisPool(RedisPoolOptions options);
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Runs one command, e.g. Command({"GET", key}). Redis error replies are FAILED_PRECONDITION
  // with Redis's message; connection failures, timeouts and an open breaker are UNAVAILABLE.
  absl::StatusOr<RedisReply> Command(RedisArgs args);

  // EVALSHA script.sha1() with `keys` and `args`, falling back to EVAL on NOSCRIPT. Errors
  // as Command's (a Lua error is FAILED_PRECONDITION).
  absl::StatusOr<RedisReply> EvalScript(const RedisScript& script, RedisArgs keys, RedisArgs args);

  // Runs the script once per call, all pipelined on one connection: one round trip (plus
  // one more when Redis had forgotten the script). Replies are in call order; a call whose
  // script raised an error has a kError reply. UNAVAILABLE as Command.
  absl::StatusOr<std::vector<RedisReply>> EvalScriptBatch(const RedisScript& script,
                                                          absl::Span<const ScriptCall> calls);

  // Runs each call's own script, all pipelined on one connection (as EvalScriptBatch).
  absl::StatusOr<std::vector<RedisReply>> EvalScripts(absl::Span<const ScriptCall> calls);
  // EvalScript, sharing a round trip with the calls other threads make at the same time:
  // the first caller sends what has queued up as one pipeline (and again while more queue
  // up), the others wait for their reply. Under load this turns N round trips, N writes
  // and N reads into one each, and Redis parses one batch; alone, a call costs what
  // EvalScript costs. Errors as EvalScript's.
  absl::StatusOr<RedisReply> EvalScriptShared(const RedisScript& script, RedisArgs keys,
                                              RedisArgs args);
  // PING -> OK when Redis answers PONG.
  absl::Status Ping();

  // The breaker is open (or probing): calls are being answered UNAVAILABLE without Redis.
  bool open() const { return breaker_.open(); }
  // Calls answered UNAVAILABLE by the open breaker, since construction (a metric).
  int64_t bypassed() const { return breaker_.bypassed(); }

 private:
  struct alignas(64) Slot {
    explicit Slot(const RedisOptions& options) : connection(options) {}
    absl::Mutex mu;
    RedisConnection connection ABSL_GUARDED_BY(mu);
    // The pool's generation when the connection was last checked (see generation_).
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
    std::atomic<int> waiting{0};
  };

  // Runs `call` on a connection under the breaker; `call` returns a StatusOr.
  // (Locks are taken and released across helpers, which the analysis cannot follow.)
  template <typename Call>
  ABSL_NO_THREAD_SAFETY_ANALYSIS auto Run(Call call)
      -> decltype(call(std::declval<RedisConnection&>()));
  // Returns a slot whose mutex the caller now holds.
  ABSL_NO_THREAD_SAFETY_ANALYSIS Slot& Acquire();

  struct SharedCall {
    ScriptCall call;
    absl::StatusOr<RedisReply> result;
    bool done = false;
  };
  // Sends queued_ as pipelines until `own` is answered (and at most a few rounds more).
  void LeadSharedCalls(SharedCall& own) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_mu_);

  CircuitBreaker breaker_;
  absl::Mutex shared_mu_;
  std::vector<SharedCall*> queued_ ABSL_GUARDED_BY(shared_mu_);
  bool leading_ ABSL_GUARDED_BY(shared_mu_) = false;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> next_{0};
  // Moves on at every connection failure. A failure usually means Redis went away, and then
  // every idle connection is stale too (a restarted Redis closed them): a slot from an older
  // generation reconnects before its next command instead of failing it.
  std::atomic<uint64_t> generation_{0};
};

}  // namespace kelola::cache
