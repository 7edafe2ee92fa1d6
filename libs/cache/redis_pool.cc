#include "libs/cache/redis_pool.h"

#include <algorithm>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kelola::cache {
namespace {

template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

absl::Status Refused() { return absl::UnavailableError("redis: circuit breaker open"); }

// Redis forgot the script (restart, failover, SCRIPT FLUSH): EVAL it instead.
bool IsNoScript(const absl::Status& status) {
  return absl::IsFailedPrecondition(status) &&
         absl::StartsWith(status.message(), "redis: NOSCRIPT");
}

RedisOptions ConnectionOptions(const RedisPoolOptions& options) {
  RedisOptions server = options.server;
  server.connect_timeout = options.connect_timeout;
  server.command_timeout = options.command_timeout;
  return server;
}

}  // namespace

RedisPool::RedisPool(RedisPoolOptions options)
    : breaker_(options.breaker, options.clock != nullptr ? *options.clock : RealClock::Get()) {
  const RedisOptions server = ConnectionOptions(options);
  const int size = std::max(1, options.connections);
  slots_.reserve(size);
  for (int i = 0; i < size; ++i) slots_.push_back(std::make_unique<Slot>(server));
}

RedisPool::Slot& RedisPool::Acquire() {
  const size_t size = slots_.size();
  const size_t start = next_.fetch_add(1, std::memory_order_relaxed) % size;
  for (size_t i = 0; i < size; ++i) {
    Slot& slot = *slots_[(start + i) % size];
    if (slot.mu.TryLock()) return slot;
  }
  // All busy: queue behind the connection with the fewest callers already waiting.
  Slot* best = slots_[start].get();
  for (const auto& slot : slots_) {
    if (slot->waiting.load(std::memory_order_relaxed) <
        best->waiting.load(std::memory_order_relaxed)) {
      best = slot.get();
    }
  }
  best->waiting.fetch_add(1, std::memory_order_relaxed);
  best->mu.Lock();
  best->waiting.fetch_sub(1, std::memory_order_relaxed);
  return *best;
}

template <typename Call>
auto RedisPool::Run(Call call) -> decltype(call(std::declval<RedisConnection&>())) {
  const CircuitBreaker::Admission admission = breaker_.Allow();
  if (admission == CircuitBreaker::Admission::kRefused) return Refused();
  Slot& slot = Acquire();
  // A caller that queued while the breaker opened gives up rather than wait out a timeout.
  if (admission == CircuitBreaker::Admission::kAllowed && breaker_.open()) {
    slot.mu.Unlock();
    breaker_.RecordBypass();
    return Refused();
  }
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (slot.generation != generation) {
    slot.connection.Disconnect();
    slot.generation = generation;
  }
  auto result = call(slot.connection);
  slot.mu.Unlock();
  if (absl::IsUnavailable(StatusOf(result))) {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    breaker_.RecordFailure();
  } else {
    breaker_.RecordSuccess();
  }
  return result;
}

absl::StatusOr<RedisReply> RedisPool::Command(RedisArgs args) {
  return Run([args](RedisConnection& connection) { return connection.Command(args); });
}

absl::Status RedisPool::Ping() {
  absl::StatusOr<RedisReply> reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->text != "PONG") return absl::UnavailableError("redis: unexpected PING reply");
  return absl::OkStatus();
}

absl::StatusOr<RedisReply> RedisPool::EvalScript(const RedisScript& script, RedisArgs keys,
                                                 RedisArgs args) {
  const absl::AlphaNum key_count(keys.size());
  absl::InlinedVector<absl::string_view, 12> argv = {"EVALSHA", script.sha1(), key_count.Piece()};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return Run([&](RedisConnection& connection) {
    absl::StatusOr<RedisReply> reply = connection.Command(argv);
    if (!IsNoScript(reply.status())) return reply;
    argv[0] = "EVAL";
    argv[1] = script.source();
    return connection.Command(argv);
  });
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::EvalScriptBatch(
    const RedisScript& script, absl::Span<const ScriptCall> calls) {
  std::vector<ScriptCall> own(calls.begin(), calls.end());
  for (ScriptCall& call : own) {
    if (call.script == nullptr) call.script = &script;
  }
  return EvalScripts(own);
}

absl::StatusOr<RedisReply> RedisPool::EvalScriptShared(const RedisScript& script, RedisArgs keys,
                                                       RedisArgs args) {
  SharedCall own;
  own.call = ScriptCall{keys, args, &script};
  absl::MutexLock lock(&shared_mu_);
  queued_.push_back(&own);
  struct Turn {
    const SharedCall* own;
    const bool* leading;
    bool operator()() const { return own->done || !*leading; }
  } turn{&own, &leading_};
  while (!own.done && leading_) shared_mu_.Await(absl::Condition(&turn));
  if (!own.done) LeadSharedCalls(own);
  return std::move(own.result);
}

void RedisPool::LeadSharedCalls(SharedCall& own) {
  constexpr int kExtraRounds = 2;  // bounds how long a leader serves others after itself
  constexpr size_t kMaxBatch = 256;
  leading_ = true;
  for (int extra = 0; !queued_.empty() && (!own.done || extra < kExtraRounds);) {
    std::vector<SharedCall*> batch;
    const size_t take = std::min(queued_.size(), kMaxBatch);
    batch.assign(queued_.begin(), queued_.begin() + take);
    queued_.erase(queued_.begin(), queued_.begin() + take);
    if (own.done) ++extra;
    shared_mu_.Unlock();
    std::vector<ScriptCall> calls;
    calls.reserve(batch.size());
    for (SharedCall* shared : batch) calls.push_back(shared->call);
    absl::StatusOr<std::vector<RedisReply>> replies = EvalScripts(calls);
    shared_mu_.Lock();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!replies.ok()) {
        batch[i]->result = replies.status();
      } else if ((*replies)[i].type == RedisReply::Type::kError) {
        batch[i]->result =
            absl::FailedPreconditionError(absl::StrCat("redis: ", (*replies)[i].text));
      } else {
        batch[i]->result = std::move((*replies)[i]);
      }
      batch[i]->done = true;
    }
  }
  leading_ = false;  // a waiter still queued takes over
}

absl::StatusOr<std::vector<RedisReply>> RedisPool::EvalScripts(absl::Span<const ScriptCall> calls) {
  // All arguments in one flat array; command i is a span of it starting at begin[i].
  std::vector<std::string> key_counts(calls.size());
  std::vector<size_t> begin(calls.size());
  std::vector<absl::string_view> flat;
  for (size_t i = 0; i < calls.size(); ++i) {
    key_counts[i] = absl::StrCat(calls[i].keys.size());
    begin[i] = flat.size();
    flat.insert(flat.end(), {"EVALSHA", calls[i].script->sha1(), key_counts[i]});
    flat.insert(flat.end(), calls[i].keys.begin(), calls[i].keys.end());
    flat.insert(flat.end(), calls[i].args.begin(), calls[i].args.end());
  }
  std::vector<RedisArgs> commands(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const size_t end = i + 1 < calls.size() ? begin[i + 1] : flat.size();
    commands[i] = RedisArgs(flat.data() + begin[i], end - begin[i]);
  }
  return Run([&](RedisConnection& connection) -> absl::StatusOr<std::vector<RedisReply>> {
    std::vector<RedisReply> replies;
    if (absl::Status sent = connection.Pipeline(commands, &replies); !sent.ok()) return sent;
    // Calls Redis refused with NOSCRIPT did not run: send those again as EVAL.
    std::vector<size_t> missing;
    std::vector<RedisArgs> retry;
    for (size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].type != RedisReply::Type::kError ||
          !absl::StartsWith(replies[i].text, "NOSCRIPT")) {
        continue;
      }
      flat[begin[i]] = "EVAL";
      flat[begin[i] + 1] = calls[i].script->source();
      missing.push_back(i);
      retry.push_back(commands[i]);
    }
    if (missing.empty()) return replies;
    std::vector<RedisReply> again;
    if (absl::Status sent = connection.Pipeline(retry, &again); !sent.ok()) return sent;
    for (size_t k = 0; k < missing.size(); ++k) replies[missing[k]] = std::move(again[k]);
    return replies;
  });
}

}  // namespace kelola::cache
