#pragma once

// What the directory keeps about a person besides the customer row (C17): the history of
// their marketing consent, the customer's own events, and the erasure that scrubs both and
// the remembered responses. A repository over DirectoryTx, as CategoryRecords
// (category_records.h) is for categories.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

class PrivacyRecords {
 public:
  explicit PrivacyRecords(DirectoryTx& tx);

  // Consent history (C17), recorded by the transaction's writer.
  absl::Status AddConsent(absl::string_view customer_id, const v1::MarketingConsent& consent);
  absl::StatusOr<std::vector<ConsentRecord>> ConsentHistory(absl::string_view customer_id);

  // Erasure (C17): removes the consent history, rewrites the customer's earlier event
  // payloads and remembered responses without personal data (`anonymized` replaces the
  // customer in them), and records the audit row.
  absl::Status EraseTraces(const v1::Customer& anonymized, absl::string_view reason);
  // The customer's own events, oldest first.
  absl::StatusOr<std::vector<type::v1::Event>> CustomerEvents(absl::string_view customer_id);

 private:
  // Replaces the payload of customer `id`'s events in `table` (`key` its row key) that carry
  // personal data with one that carries the id only.
  absl::Status ScrubCustomerEvents(const char* table, const char* key, const std::string& id);

  db::Transaction& tx_;
  const std::string tenant_;
  const absl::Time now_;
  const std::string principal_;
  const std::string request_id_;
};

}  // namespace kelola::customer::store
