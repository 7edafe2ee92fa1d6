#pragma once

// The ledger's credit rules (L4, L10): the credit limit a customer buys under, and the use
// of a customer's credit (overpayments kept as credit), oldest payment first. Pure
// functions: no database, no clock, no wire types.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::ledger {

// The limit that applies to a customer: its own, else its category's; nullopt = none.
std::optional<int64_t> EffectiveCreditLimit(std::optional<int64_t> own,
                                            std::optional<int64_t> category);

// OK when `unpaid` more on a balance of `balance` stays within `limit` (nullopt: no limit;
// nothing unpaid is always OK). FAILED_PRECONDITION CREDIT_LIMIT_EXCEEDED (metadata limit,
// balance, attempted, currency_code), or AMOUNT_OVERFLOW naming `balance`.
absl::Status CheckCreditLimit(std::optional<int64_t> limit, int64_t balance, int64_t unpaid,
                              absl::string_view currency);

// A payment holding credit (the part of it allocated to no sale).
struct CreditSource {
  std::string payment_id;
  int64_t credit = 0;
};

// The sum of the sources' credit; AMOUNT_OVERFLOW naming `credit` when it does not fit.
absl::StatusOr<int64_t> TotalCredit(const std::vector<CreditSource>& sources);

// Credit taken from one payment for one of the amounts asked.
struct CreditTake {
  size_t target = 0;  // index into `amounts`
  std::string payment_id;
  int64_t amount = 0;
};

// Covers `amounts` in order from `sources` (callers pass them oldest first), each source
// giving at most its credit, so the oldest credit is used up first. FAILED_PRECONDITION
// INSUFFICIENT_CREDIT (metadata credit, attempted) when the sources hold less than the
// amounts together; nothing is taken then.
absl::StatusOr<std::vector<CreditTake>> TakeCreditOldestFirst(
    const std::vector<int64_t>& amounts, const std::vector<CreditSource>& sources);

}  // namespace kelola::ledger
