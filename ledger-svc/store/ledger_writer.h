#pragma once

// How the ledger's writes reach the database: each write (an app/ use case) is one
// transaction that claims the write's request_id, runs the use case's steps and stores
// its response with the key (entries::RunIdempotent). Transactions go through `writer`
// (e.g. a db::GroupCommitter over `db`): a write's function runs on the writer's thread
// and must not call Run itself. The steps' SQL are the functions of ledger_entries.h and
// entry_writes.h, which take the write's transaction and plain values.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ledger-svc/store/entry_numbers.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/events/outbox.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::ledger {

class LedgerWriter {
 public:
  // `writer`: nullptr = one transaction per write on `db`.
  LedgerWriter(db::Database& db, const Clock& clock, events::EventNotifier* notifier,
               db::TransactionRunner* writer = nullptr)
      : direct_(db),
        writer_(writer != nullptr ? *writer : direct_),
        outbox_(clock, notifier),
        numbers_(db, clock) {}

  // Runs `body` in one transaction after claiming the key (tenant, `rpc`, `request_id`),
  // and stores its response with the key; a replay returns the stored response without
  // running `body` (REQUEST_ID_REUSED when `print`, the request's fingerprint, differs).
  template <typename Response>
  absl::StatusOr<Response> Run(
      const LedgerContext& ctx, absl::string_view rpc, const std::string& request_id,
      const idempotency::Print& print, int64_t now_micros,
      const std::function<absl::Status(db::Transaction&, Response&)>& body) {
    return entries::RunIdempotent<Response>(writer_, ctx, rpc, request_id, print, now_micros, body);
  }

  // One number of each counter of `names` for a write about to run, reserved outside its
  // transaction (entry_numbers.h).
  absl::StatusOr<EntryNumbers> Reserve(const std::string& tenant,
                                       const std::vector<std::string>& names) {
    return numbers_.Reserve(tenant, names);
  }

  // Where a write appends its event (inside its transaction).
  const events::Outbox& outbox() const { return outbox_; }

 private:
  db::DirectRunner direct_;
  db::TransactionRunner& writer_;
  events::Outbox outbox_;
  NumberBlocks numbers_;
};

}  // namespace kelola::ledger
