#pragma once

// A synthetic event log generated on demand, in sequence order, for the fake event
// producers of the report benchmark: each stream gets its own history and walks it from
// the start (skipping what the consumer already has), so nothing of a 10-million-event log
// is ever held in memory.

#include <cstdint>
#include <functional>
#include <memory>

#include "kelola/type/v1/event.pb.h"

namespace kelola::bench {

class EventHistory {
 public:
  virtual ~EventHistory() = default;
  // Moves to the next event and, when `out` is not null, fills it in (a null `out` only
  // advances, which is how a stream skips to the consumer's position cheaply). False at
  // the end of the history.
  virtual bool Next(type::v1::Event* out) = 0;
};

using HistoryFactory = std::function<std::unique_ptr<EventHistory>()>;

}  // namespace kelola::bench
