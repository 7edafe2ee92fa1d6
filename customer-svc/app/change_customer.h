#pragma once

// The writes of one existing customer, each one write: edit (C3), archive and restore
// (C5), a marketing-consent decision and erasure (C17). Each finds the customer, refuses
// what its state forbids (merged, being merged, erased) and a stale etag, stores the new
// version and emits its event. An update that changes no field, and an archive or restore
// of a customer already in that state, store nothing and emit nothing.

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "google/protobuf/field_mask.pb.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::app {

struct CustomerUpdate {
  std::string customer_id;  // canonical
  v1::Customer patch;       // the fields to change (as `update_mask` names) and the etag
  google::protobuf::FieldMask update_mask;
  bool allow_duplicate = false;
};

struct StateChange {
  std::string customer_id;  // canonical
  std::string etag;         // empty: any version
};

struct ConsentDecision {
  std::string customer_id;  // canonical
  v1::MarketingConsentState state = v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
  std::string source;       // trimmed
  absl::Time consent_time;  // when the customer decided (not in the future)
};

struct Erasure {
  std::string customer_id;  // canonical
  std::string etag;
  std::string reason;  // kept in the erasure audit row
};

class ChangeCustomer {
 public:
  ChangeCustomer(store::DirectoryStore& store, const phone::PhoneNormalizer& phones)
      : store_(store), phones_(phones) {}

  // Validates the changed fields against the tenant's settings; checks duplicates when a
  // phone or the e-mail changed; CustomerUpdated (and CustomerCategoryChanged).
  absl::Status Update(const std::string& tenant, const store::WriteOptions& options,
                      const CustomerUpdate& cmd, v1::UpdateCustomerResponse& response);
  // CustomerArchived; archived customers leave the duplicate indexes.
  absl::Status Archive(const std::string& tenant, const store::WriteOptions& options,
                       const StateChange& cmd, v1::ArchiveCustomerResponse& response);
  // CustomerRestored; the phones and e-mail must not meet another customer's again.
  absl::Status Restore(const std::string& tenant, const store::WriteOptions& options,
                       const StateChange& cmd, v1::RestoreCustomerResponse& response);
  // Records the decision in the consent history; the customer's current consent is the
  // decision with the latest consent_time. CustomerMarketingConsentChanged.
  absl::Status SetConsent(const std::string& tenant, const store::WriteOptions& options,
                          const ConsentDecision& cmd, v1::SetMarketingConsentResponse& response);
  // Anonymizes the customer and the pointers of customers merged into it and removes their
  // traces (DirectoryTx::EraseTraces); CustomerErased for each. Erasing an erased
  // customer answers it again.
  absl::Status Erase(const std::string& tenant, const store::WriteOptions& options,
                     const Erasure& cmd, v1::EraseCustomerResponse& response);

 private:
  // What a change does in its write, given the customer as stored and the tenant's
  // settings; it sets the response.
  using Change =
      absl::FunctionRef<absl::Status(store::DirectoryTx& tx, const store::StoredCustomer& current,
                                     const v1::TenantSettings& settings)>;
  // A write of customer `id` (the idempotency subject): NOT_FOUND, a state that forbids
  // changing it (CheckChangeable) or a stale `etag` (empty: any version) refuse it;
  // otherwise `change` runs.
  absl::Status WriteChange(const std::string& tenant, const store::WriteOptions& options,
                           const std::string& id, absl::string_view etag, const Change& change,
                           google::protobuf::Message& response);
  template <typename Response>
  absl::Status ChangeState(const std::string& tenant, const store::WriteOptions& options,
                           const StateChange& cmd, bool archive, Response& response);

  store::DirectoryStore& store_;
  const phone::PhoneNormalizer& phones_;
};

}  // namespace kelola::customer::app
