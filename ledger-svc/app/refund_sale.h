#pragma once

// RefundSale: money (and optionally goods) goes back on a sale, in one write. The refund
// first reduces what the sale still owes; the rest is returned, releasing the sale's
// allocations newest first, paid out (PAY_OUT) or kept as the customer's credit (CREDIT,
// not for a walk-in sale). Returned quantities are checked against what is left on each
// line. The customer's statistics are recomputed and the event appended.

#include <cstdint>
#include <optional>
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

// A refund (validated by the api layer); amounts in minor units.
struct RefundSaleCommand {
  std::string request_id;
  std::string sale_id;
  int64_t amount = 0;
  std::vector<v1::RefundItem> items;  // returned goods, by line
  std::string reason;
  v1::RefundSettlement settlement = v1::REFUND_SETTLEMENT_UNSPECIFIED;
  v1::PaymentMethod payout_method = v1::PAYMENT_METHOD_UNSPECIFIED;
  std::string store_id;                       // empty: the sale's
  std::optional<int64_t> refund_time_micros;  // nullopt: now

  bool credit() const { return settlement == v1::REFUND_SETTLEMENT_CREDIT; }
};

// OK when each returned quantity is at most what is left to refund on its line of `sale`,
// else INVALID_ARGUMENT naming each offending item.
absl::Status CheckReturnedLines(const RefundSaleCommand& cmd, const v1::Sale& sale);

// How much each payment gives back of `returned`: the sale's net allocations
// (`net_allocations`, in entry order) released newest first.
std::vector<std::pair<std::string, int64_t>> ReleaseNewestFirst(
    const std::vector<std::pair<std::string, int64_t>>& net_allocations, int64_t returned);

// The refund's record (without its refund time and record time).
v1::Refund NewRefundRecord(const LedgerContext& ctx, const RefundSaleCommand& cmd,
                           const std::string& refund_id, const std::string& sale_store_id,
                           int64_t debt_reduction, int64_t returned);

class RefundSale {
 public:
  RefundSale(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::RefundSaleResponse> Run(const LedgerContext& ctx, const RefundSaleCommand& cmd,
                                             const idempotency::Print& print);

 private:
  struct Write;
  absl::Status Check(Write& w) const;
  absl::Status Insert(Write& w, v1::RefundSaleResponse& out) const;
  absl::Status Respond(Write& w, v1::RefundSaleResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::ledger
