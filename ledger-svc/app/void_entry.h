#pragma once

// VoidSale and VoidPayment: an entry is never changed or deleted; voiding one appends a
// void and the allocations that release what was allocated (docs/ledger.md).
// - VoidSale releases every payment's allocation to the sale, refusing when payments other
//   than the one made with the sale (or credit) are allocated to it unless they are to be
//   kept as credit; the payment made with the sale is voided with it, with whatever of it
//   was applied to other sales.
// - VoidPayment releases the payment's allocations; not for the payment of a walk-in sale
//   (void the sale) nor one partly paid back by a refund.
// Each in one write that locks the customer's row, recomputes its statistics and appends
// the event.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

namespace kelola::ledger {

struct VoidSaleCommand {
  std::string request_id;
  std::string sale_id;
  std::string reason;
  bool release_payments_as_credit = false;
};

struct VoidPaymentCommand {
  std::string request_id;
  std::string payment_id;
  std::string reason;
};

// What voiding a sale releases as the customer's credit: the net allocations to it of
// payments other than `own_payment` (the one made with the sale).
int64_t ReleasedCredit(const std::vector<std::pair<std::string, int64_t>>& net_allocations,
                       const std::string& own_payment);

// OK unless credit would be released without release_payments_as_credit
// (FAILED_PRECONDITION SALE_HAS_PAYMENTS).
absl::Status CheckRelease(const VoidSaleCommand& cmd, int64_t released_credit);

class VoidSale {
 public:
  VoidSale(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::VoidSaleResponse> Run(const LedgerContext& ctx, const VoidSaleCommand& cmd,
                                           const idempotency::Print& print);

 private:
  struct Write;
  absl::Status Release(Write& w) const;
  absl::Status VoidOwnPayment(Write& w, v1::VoidSaleResponse& out) const;
  absl::Status Respond(Write& w, v1::VoidSaleResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

class VoidPayment {
 public:
  VoidPayment(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  absl::StatusOr<v1::VoidPaymentResponse> Run(const LedgerContext& ctx,
                                              const VoidPaymentCommand& cmd,
                                              const idempotency::Print& print);

 private:
  absl::Status Write(db::Transaction& tx, const LedgerContext& ctx, const VoidPaymentCommand& cmd,
                     int64_t now, absl::CivilDay today, v1::VoidPaymentResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::ledger
