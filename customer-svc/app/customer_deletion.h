#pragma once

// DeleteCustomer (C4): a customer without any ledger history is deleted for good, race-free
// with sales, by the seal protocol (ARCHITECTURE.md "Cross-service protocols"):
//   1. record a pending delete (seal_id) here, after checking state and etag;
//   2. ledger-svc seals the customer: refused if any sale or payment exists, and from then
//      on every sale for the id is refused — in one ledger transaction;
//   3. delete the row here (tombstone, event), removing the pending delete.
// A refusal in 2 or a failure in 3 unseals and removes the pending delete: nothing
// changed. A pending delete left behind (crash, ledger unreachable for the undo) is undone
// by ResumeStale once it is older than any request could be.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "customer-svc/app/ledger_protocol.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"
#include "libs/server/request_context.h"

namespace kelola::customer::app {

struct CustomerDeletionOptions {
  // A pending delete older than this is abandoned and undone by ResumeStale.
  absl::Duration stale_after = absl::Minutes(2);
};

class CustomerDeletion {
 public:
  CustomerDeletion(store::DirectoryStore& store, LedgerProtocol& ledger, ids::IdGenerator& ids,
                   const Clock& clock, CustomerDeletionOptions options = {})
      : store_(store), ledger_(ledger), ids_(ids), clock_(clock), options_(options) {}

  absl::Status Delete(const server::RequestContext& rc, const v1::DeleteCustomerRequest& request);

  // Undoes abandoned pending deletes (all tenants); returns the first error, after trying
  // all of them.
  absl::Status ResumeStale();

 private:
  // Unseals and forgets the pending delete; OK when both happened.
  absl::Status Undo(const LedgerTenant& tenant, const std::string& customer_id,
                    const std::string& seal_id);

  store::DirectoryStore& store_;
  LedgerProtocol& ledger_;
  ids::IdGenerator& ids_;
  const Clock& clock_;
  CustomerDeletionOptions options_;
};

}  // namespace kelola::customer::app
