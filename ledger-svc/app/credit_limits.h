#pragma once

// SetCreditLimit and DeleteCreditLimit: a customer's own credit limit or its category's
// (which applies to the category's customers without one of their own). Each is one write
// that stores the limit's new version and appends CreditLimitChanged. A customer's limit
// is not set for a deleted or merged customer (its ledger row is locked and checked).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::ledger {

// Whose limit: a customer's or a category's.
struct LimitSubject {
  enum Kind { kCustomer, kCategory };
  Kind kind = kCustomer;
  std::string id;

  // As the store names it: "customer" or "category".
  std::string name() const { return kind == kCategory ? "category" : "customer"; }
};

struct SetCreditLimitCommand {
  std::string request_id;
  LimitSubject subject;
  int64_t limit = 0;  // minor units
};

struct DeleteCreditLimitCommand {
  std::string request_id;
  LimitSubject subject;
};

// The limit's record as stored and answered.
v1::CreditLimit NewCreditLimit(const LedgerContext& ctx, const SetCreditLimitCommand& cmd,
                               int64_t now_micros);

class CreditLimits {
 public:
  CreditLimits(LedgerWriter& writer, const Clock& clock) : writer_(writer), clock_(clock) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  absl::StatusOr<v1::SetCreditLimitResponse> Set(const LedgerContext& ctx,
                                                 const SetCreditLimitCommand& cmd,
                                                 const idempotency::Print& print);
  absl::StatusOr<v1::DeleteCreditLimitResponse> Delete(const LedgerContext& ctx,
                                                       const DeleteCreditLimitCommand& cmd,
                                                       const idempotency::Print& print);

 private:
  LedgerWriter& writer_;
  const Clock& clock_;
};

}  // namespace kelola::ledger
