#pragma once

// The facts the tenant-wide reports are computed from, as pure functions of ledger events:
// each sale as it stands (store, sale time, due date, net total, outstanding), each
// payment's received time and whether it counts, and the time at which an event's changes
// of outstanding amounts took effect in the shop (docs/reports.md, R6 RECEIVABLES). They
// ride on the per-customer changes of domain::CardChanges, so the card's version guard
// protects them from replays too.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/ledger/v1/events.pb.h"
#include "kelola/type/v1/event.pb.h"

namespace kelola::report::domain {

// One customer sale as it stands after a change.
struct SaleFact {
  std::string sale_id;
  std::string customer_id;
  std::string store_id;
  absl::Time sale_time;
  std::optional<absl::CivilDay> due_date;
  int64_t net_total = 0;    // total − refunds; zero when voided
  int64_t outstanding = 0;  // what is still owed on it
  bool counted = true;      // false when voided: counts for nothing
  bool operator==(const SaleFact&) const = default;
};

SaleFact SaleFactOf(const ledger::v1::SalePosition& position);

// One payment as it stands after a change.
struct PaymentFact {
  std::string payment_id;
  std::string customer_id;
  absl::Time received_time;
  bool counts = true;  // false when voided
  bool operator==(const PaymentFact&) const = default;
};

// The payments a payload records or voids (a sale's own payment included); none for the
// other payloads.
template <typename T>
std::vector<PaymentFact> PaymentsOf(const T&) {
  return {};
}
std::vector<PaymentFact> PaymentsOf(const ledger::v1::SaleRecorded& p);
std::vector<PaymentFact> PaymentsOf(const ledger::v1::SaleVoided& p);
std::vector<PaymentFact> PaymentsOf(const ledger::v1::PaymentRecorded& p);
std::vector<PaymentFact> PaymentsOf(const ledger::v1::PaymentVoided& p);

// When the payload's changes of outstanding amounts took effect: a sale's at its sale_time,
// a payment's at its received_time, a refund's at its refund_time, a void's at its void
// time; anything else (credit applied, a merge), or a time not given, at `occur` (the
// event's occur_time).
template <typename T>
absl::Time EffectiveTime(const T&, absl::Time occur) {
  return occur;
}
absl::Time EffectiveTime(const ledger::v1::SaleRecorded& p, absl::Time occur);
absl::Time EffectiveTime(const ledger::v1::PaymentRecorded& p, absl::Time occur);
absl::Time EffectiveTime(const ledger::v1::SaleRefunded& p, absl::Time occur);
absl::Time EffectiveTime(const ledger::v1::SaleVoided& p, absl::Time occur);
absl::Time EffectiveTime(const ledger::v1::PaymentVoided& p, absl::Time occur);

// How much a sale's outstanding amount moved: `after` minus what was stored before (nothing
// stored: the whole amount is new).
inline int64_t OutstandingDelta(std::optional<int64_t> before, const SaleFact& after) {
  return after.outstanding - before.value_or(0);
}

}  // namespace kelola::report::domain
