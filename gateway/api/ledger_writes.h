#pragma once

// Read-your-writes for cards (G3): every ledger write forwarded through the gateway returns
// the customer's new ledger_version (in customer_stats); before the caller sees that
// answer, the version is noted in Redis (CardCache::NoteWritten), so no gateway replica
// serves an older card afterwards.

#include "gateway/cache/card_cache.h"
#include "gateway/proxy/forwarding_service.h"

namespace kelola::gateway {

// Attaches the observers to the write methods of the forwarded LedgerService.
void ObserveLedgerWrites(ForwardingService& ledger, CardCache& cache);

}  // namespace kelola::gateway
