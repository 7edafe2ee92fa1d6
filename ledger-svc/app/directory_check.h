#pragma once

// Whether a write may add entries for a customer, decided inside the write's transaction
// from the ledger's projection of customer-svc's directory (RecordSale, RecordPayment).
// customer-svc is asked only about a customer the projection does not hold yet: the write
// then fails with NOT_FOUND CUSTOMER_NOT_PROJECTED, the caller asks (outside any
// transaction) and runs the write again with the answer, which the projection remembers.

#include <functional>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger-svc/domain/customer_directory.h"
#include "ledger-svc/store/ledger_entries.h"
#include "libs/customer_stream/customer_reducer.h"
#include "libs/db/database.h"

namespace kelola::ledger {

// customer-svc's answer about a customer the projection does not hold yet.
using DirectoryQuestion = std::function<absl::StatusOr<CustomerCheck>()>;

// A decision from the projection's row: SaleEligibility or PaymentEligibility.
using Eligibility = absl::Status (*)(const customer_stream::CustomerRow&);

// Whether the write may add entries for `customer`: from customer-svc's answer when it was
// asked (`checked`, remembered by the projection when it carries a version), else from the
// projection's row by `eligible` (NOT_FOUND CUSTOMER_NOT_PROJECTED without one); then the
// ledger's own seal and merge marks on the locked `row`.
absl::Status MayWrite(db::Transaction& tx, const LedgerContext& ctx, const std::string& customer,
                      const entries::CustomerRow& row,
                      const std::optional<customer_stream::CustomerRow>& directory,
                      const CustomerCheck* checked, Eligibility eligible);

// Whether MayWrite failed for want of the projection's row: the caller asks customer-svc.
bool NotProjected(const absl::Status& status);

// Runs `write` deciding from the projection (no answer); when the projection does not hold
// the customer, asks customer-svc once (outside any transaction) and runs `write` again
// with the answer. `write` must keep what it reserved (numbers) across both runs.
template <typename Response>
absl::StatusOr<Response> WriteAskingOnce(
    const DirectoryQuestion& ask_directory,
    absl::FunctionRef<absl::StatusOr<Response>(const CustomerCheck*)> write) {
  absl::StatusOr<Response> written = write(nullptr);
  if (written.ok() || !NotProjected(written.status())) return written;
  absl::StatusOr<CustomerCheck> check = ask_directory();
  if (!check.ok()) return check.status();
  return write(&*check);
}

}  // namespace kelola::ledger
