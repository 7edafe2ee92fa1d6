#pragma once

// A stored customer read back from the columns `data, version, duplicate_allowed` of a row
// (in that order, from `first`), for the store's readers of customer rows.

#include <cstddef>

#include "absl/status/statusor.h"
#include "customer-svc/store/directory_store.h"
#include "libs/db/database.h"
#include "libs/time/time.h"

namespace kelola::customer::store {

inline absl::StatusOr<StoredCustomer> StoredCustomerFromRow(const db::Row& row, size_t first = 0) {
  StoredCustomer out;
  if (!out.customer.ParseFromString(row.GetBytes(first))) {
    return absl::InternalError("corrupt customer row");
  }
  time::ClampStoredTimestamps(&out.customer);
  out.version = row.GetInt(first + 1);
  out.duplicate_allowed = row.GetBool(first + 2);
  return out;
}

}  // namespace kelola::customer::store
