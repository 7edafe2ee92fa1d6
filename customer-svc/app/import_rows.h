#pragma once

// An import's rows before they meet the database (C14): which field each column holds, and
// each data row read into the customer it describes, normalized and checked as
// CreateCustomer checks a request. Pure: no transaction, so the next batch is prepared while
// the previous one is written (customer_import.h).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "kelola/customer/v1/tenant.pb.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::app {

// The field of each column of the file.
struct Mapping {
  std::vector<std::string> headers;
  std::vector<v1::CustomerColumn> fields;
  // The first column of each field.
  absl::flat_hash_map<int, size_t> first;
};

// The mapping of the file's `header` row under the request's explicit column mappings.
// INVALID_ARGUMENT with every bad mapping named.
absl::StatusOr<Mapping> MapColumns(const std::vector<std::string>& header,
                                   const v1::ImportCustomersHeader& options);

// A problem of a row's `field`, its column named from `mapping`.
v1::ImportRowError RowError(const Mapping& mapping, v1::CustomerColumn field, std::string reason,
                            std::string message);

// A data row as read from the file.
struct Row {
  int64_t line = 0;
  std::vector<std::string> fields;
};

// A data row read and checked without the database.
struct PreparedRow {
  int64_t line = 0;
  // The customer the row describes, normalized; its category is not resolved yet.
  v1::Customer normalized;
  std::string fingerprint;    // of the row's content (the row's idempotency key)
  std::string given_id;       // the CUSTOMER_ID cell
  std::string category_cell;  // the CATEGORY cell (a name or an id)
  bool sets_consent = false;  // the row grants or withdraws marketing consent
  // What is wrong with the row (it fails when not empty); an unknown category, found
  // later, goes in at `category_error_at` so that the errors keep the columns' order.
  std::vector<v1::ImportRowError> errors;
  size_t category_error_at = 0;

  // Adds a problem of `field` (its column named from `mapping`).
  void AddError(const Mapping& mapping, v1::CustomerColumn field, std::string reason,
                std::string message, size_t at = SIZE_MAX);
};

// Reads rows of one file for one tenant. Thread-compatible; `mapping` and `phones` must
// outlive it.
class RowPreparer {
 public:
  RowPreparer(const Mapping& mapping, const v1::TenantSettings& settings, absl::TimeZone tz,
              const phone::PhoneNormalizer& phones)
      : mapping_(mapping), settings_(settings), tz_(tz), phones_(phones) {}

  // The row as a client's customer at `now`, normalized as CreateCustomer does it.
  PreparedRow Prepare(const Row& row, absl::Time now) const;

 private:
  std::vector<std::string> Cells(const Row& row, v1::CustomerColumn field) const;
  std::string Cell(const Row& row, v1::CustomerColumn field) const;

  const Mapping& mapping_;
  const v1::TenantSettings settings_;
  const absl::TimeZone tz_;
  const phone::PhoneNormalizer& phones_;
};

}  // namespace kelola::customer::app
