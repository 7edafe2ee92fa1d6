#pragma once

// What other services keep of each customer from customer-svc's event stream, as a pure
// reducer: name, primary phone, category, marketing consent, creation time, state and the
// survivor of a merge (report-svc's customer dimension; ledger-svc's directory projection
// keeps state, category and survivor). Guarded by the customer record's version (the event's
// aggregate_version): an event older than the stored row is ignored, one of the same version
// is applied again (customer-svc emits CustomerUpdated and CustomerCategoryChanged of one
// change with one version, and both set absolute values), so replays and redeliveries are
// harmless. Erasure keeps the id and drops every piece of personal data.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kelola/type/v1/event.pb.h"

namespace kelola::customer_stream {

enum class CustomerState : int {
  kActive = 1,
  kArchived = 2,
  kMerged = 3,
  kErased = 4,
  kDeleted = 5
};

struct CustomerRow {
  std::string customer_id;
  int64_t version = 0;  // 0: unknown to the read model
  std::string display_name;
  std::string phone_e164;
  std::string category_id;
  bool marketing_consent = false;
  std::optional<absl::Time> created;
  CustomerState state = CustomerState::kActive;
  std::string merged_into_customer_id;
  bool operator==(const CustomerRow&) const = default;
};

// Whether the customer counts as existing in the reports: active or archived (not
// deleted, merged away or erased).
inline bool Exists(const CustomerRow& row) {
  return row.version > 0 &&
         (row.state == CustomerState::kActive || row.state == CustomerState::kArchived);
}

// The customer an event is about, or nullopt for events of other aggregates (categories,
// price lists, tenant settings). Chosen by the payload's message type.
std::optional<std::string> CustomerOf(const type::v1::Event& event);

// The row after `event` (which must be about row.customer_id); `row` itself when the event
// is older than the row. INVALID_ARGUMENT when a known payload cannot be read.
absl::StatusOr<CustomerRow> ReduceCustomer(const type::v1::Event& event, const CustomerRow& row);

}  // namespace kelola::customer_stream
