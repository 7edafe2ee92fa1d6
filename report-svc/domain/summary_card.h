#pragma once

// The summary card read model (R1) as pure functions. Every per-customer ledger event
// carries the customer's statistics after the change and its ledger version
// (protos/kelola/ledger/v1/events.proto); a card takes them only when the version is newer
// than the one it holds, so replays, duplicates and out-of-order deliveries never move it
// backwards. The positions of the sales an event touched are kept per sale while something
// is outstanding, so that the overdue amount is computed on the day of the read.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/ledger/v1/balance.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "report-svc/domain/ledger_facts.h"

namespace kelola::report::domain {

// One customer's card as stored: the ledger's CustomerLedgerStats of `ledger_version`.
struct CardRow {
  std::string customer_id;
  int64_t ledger_version = 0;  // 0: nothing applied yet
  std::string currency;
  int64_t total_spent = 0;
  int64_t transaction_count = 0;
  int64_t average_order = 0;
  int64_t balance = 0;  // what the customer owes
  int64_t credit = 0;   // what the shop holds for the customer
  std::optional<absl::Time> first_purchase;
  std::optional<absl::Time> last_purchase;
  std::string merged_into_customer_id;
  bool operator==(const CardRow&) const = default;
};

// One sale with an amount outstanding (the only sales the overdue figures need).
struct OpenSale {
  std::string sale_id;
  std::string customer_id;
  std::optional<absl::CivilDay> due_date;
  int64_t outstanding = 0;
  bool operator==(const OpenSale&) const = default;
};

// What one ledger event changes for one customer.
struct CardChange {
  std::string customer_id;
  int64_t ledger_version = 0;
  ledger::v1::CustomerLedgerStats stats;
  // The sales whose amounts changed, after the change.
  std::vector<ledger::v1::SalePosition> positions;
  // Sales and payments that moved to this customer in a merge (C7).
  std::vector<std::string> moved_sale_ids;
  std::vector<std::string> moved_payment_ids;
  // The payments the event recorded or voided, and when its changes took effect.
  std::vector<PaymentFact> payments;
  absl::Time effective_time;
};

// The customer changes of a ledger event, chosen by the payload's message type: none for
// walk-in sales and for events without customer statistics (credit limits);
// CustomerReassigned yields the target first, then the source. INVALID_ARGUMENT when a
// known payload cannot be read.
absl::StatusOr<std::vector<CardChange>> CardChanges(const type::v1::Event& event);

// Whether `change` is newer than what `row` reflects.
inline bool IsNewer(const CardChange& change, const CardRow& row) {
  return change.ledger_version > row.ledger_version;
}

// The card after `change`; `row` itself when the change is not newer (a replay).
CardRow ReduceCard(const CardChange& change, const CardRow& row);

// The overdue figures of a customer's open sales on `today` (as the ledger computes them,
// L12): the outstanding amounts of sales due before today, and the days the oldest of them
// is past due.
struct Overdue {
  int64_t amount = 0;
  int32_t days = 0;
};
Overdue OverdueOn(const std::vector<OpenSale>& open_sales, absl::CivilDay today);

// Whole days from the last purchase's day to `today`, both in `zone`; nullopt if the
// customer never bought.
std::optional<int32_t> DaysSinceLastPurchase(const CardRow& row, absl::TimeZone zone,
                                             absl::CivilDay today);

}  // namespace kelola::report::domain
