#pragma once

// RecordSale: one sale, with the payment made with it and the credit it uses, in one
// write (docs/ledger.md). Inside the write's transaction: the sale_id is checked, the
// customer's row locked and whether the customer may buy decided from the ledger's
// projection of customer-svc's directory, then the credit limit; the credit plan is made
// oldest first; the records are built and inserted without reading them back; the
// customer's statistics move by the sale's delta; the event is appended. Numbers are
// reserved once, before the write, so a write run again after asking customer-svc keeps
// them.

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/app/directory_check.h"
#include "ledger-svc/app/sale_records.h"
#include "ledger-svc/domain/customer_directory.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

namespace kelola::ledger {

class RecordSale {
 public:
  RecordSale(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::RecordSaleResponse> Run(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                                             const idempotency::Print& print,
                                             const DirectoryQuestion& ask_directory);

 private:
  struct Write;
  // The write, with `checked` customer-svc's answer when it was asked.
  absl::StatusOr<v1::RecordSaleResponse> WriteSale(const LedgerContext& ctx,
                                                   const RecordSaleCommand& cmd,
                                                   const idempotency::Print& print,
                                                   const EntryNumbers& numbers,
                                                   const CustomerCheck* checked);
  absl::Status Decide(Write& w) const;
  absl::Status Insert(Write& w) const;
  absl::Status Respond(Write& w, v1::RecordSaleResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::ledger
