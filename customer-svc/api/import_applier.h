#pragma once

// An import's prepared rows meet the database (C14): each row, in its own savepoint, creates a
// customer, updates the one it matches (by id, by an earlier import of the same row, or as a
// duplicate by phone or e-mail), or is reported as skipped or failed.

#include <vector>

#include "absl/status/status.h"
#include "customer-svc/api/import_rows.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/ids/ids.h"

namespace kelola::customer::api {

// What one batch did.
struct BatchResult {
  int created = 0, updated = 0, skipped = 0, unchanged = 0, failed = 0;
  std::vector<v1::ImportRowError> errors;
};

// Applies `rows` in `tx`, in order. A row's problem is a row error in `result`; other errors
// are returned (the caller's transaction then rolls back). `rows` are left as they are, so a
// retried transaction applies them again into a cleared `result`.
absl::Status ApplyBatch(store::DirectoryTx& tx, const Mapping& mapping,
                        const v1::ImportCustomersHeader& options, ids::IdGenerator& ids,
                        const std::vector<PreparedRow>& rows, BatchResult& result);

}  // namespace kelola::customer::api
