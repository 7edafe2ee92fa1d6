#include "customer-svc/app/operations_resumer.h"

#include <string>

#include "customer-svc/store/customer_operations.h"
#include "libs/log/log.h"

namespace kelola::customer::app {

OperationsResumer::OperationsResumer(CustomerMergeSaga& merges, CustomerDeletion& deletion,
                                     store::DirectoryStore& store, metrics::Registry& registry,
                                     const Clock& clock)
    : merges_(merges), deletion_(deletion), store_(store), registry_(registry), clock_(clock) {
  registry_.DeclareGauge("kelola_customer_open_merge_operations",
                         "Merges not finished yet (PENDING or LEDGER_MOVED).");
  registry_.DeclareGauge("kelola_customer_pending_deletes",
                         "Deletes between the ledger seal and the row removal, or abandoned.");
  registry_.DeclareGauge("kelola_customer_oldest_open_operation_seconds",
                         "Age of the oldest unfinished merge or delete (0 when none).");
}

void OperationsResumer::RunOnce() {
  if (absl::Status s = merges_.ResumeOpen(); !s.ok()) {
    log::Warn("resuming merges", {{"error", std::string(s.message())}});
  }
  if (absl::Status s = deletion_.ResumeStale(); !s.ok()) {
    log::Warn("undoing abandoned deletes", {{"error", std::string(s.message())}});
  }
  store::OpenOperationCounts counts;
  absl::Status status = store_.Read("", [&](store::DirectoryTx& tx) -> absl::Status {
    auto found = store::OperationRecords(tx).CountOpen(clock_.Now());
    if (!found.ok()) return found.status();
    counts = *found;
    return absl::OkStatus();
  });
  if (!status.ok()) {
    log::Warn("counting open operations", {{"error", std::string(status.message())}});
    return;
  }
  registry_.Set("kelola_customer_open_merge_operations", {},
                static_cast<double>(counts.open_merges));
  registry_.Set("kelola_customer_pending_deletes", {}, static_cast<double>(counts.pending_deletes));
  registry_.Set("kelola_customer_oldest_open_operation_seconds", {},
                absl::ToDoubleSeconds(counts.oldest_age));
}

}  // namespace kelola::customer::app
