#pragma once

// Finishes what crashes and outages leave unfinished: drives open merges (C7) and undoes
// abandoned deletes (C4), then reports what is still open as metrics, so that an operator
// sees a merge stuck on an unreachable ledger:
//   kelola_customer_open_merge_operations, kelola_customer_pending_deletes (gauges),
//   kelola_customer_oldest_open_operation_seconds (gauge; alert when it keeps growing).
// customer-svc runs RunOnce periodically (libs/server/periodic_task.h).

#include "customer-svc/app/customer_deletion.h"
#include "customer-svc/app/customer_merge_saga.h"
#include "customer-svc/store/directory_store.h"
#include "libs/clock/clock.h"
#include "libs/metrics/metrics.h"

namespace kelola::customer::app {

class OperationsResumer {
 public:
  OperationsResumer(CustomerMergeSaga& merges, CustomerDeletion& deletion,
                    store::DirectoryStore& store, metrics::Registry& registry, const Clock& clock);

  // One round: resume, then measure. Errors are logged, not returned: the next round
  // tries again.
  void RunOnce();

 private:
  CustomerMergeSaga& merges_;
  CustomerDeletion& deletion_;
  store::DirectoryStore& store_;
  metrics::Registry& registry_;
  const Clock& clock_;
};

}  // namespace kelola::customer::app
