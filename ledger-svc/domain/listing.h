#pragma once

// List parameters shared by the ledger's List RPCs: the AIP-160 filter subset and the
// opaque page tokens bound to the tenant, RPC and listing parameters.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::ledger {

struct FilterTerm {
  std::string field;
  std::string op;  // = != < <= > >=
  std::string value;
  bool quoted = false;  // a "string" (else a bare word: enum, integer, boolean)
  int position = 0;     // offset of the term in the filter text
};

// Terms joined by AND. INVALID_ARGUMENT INVALID_FILTER (metadata position, detail).
absl::StatusOr<std::vector<FilterTerm>> ParseFilter(absl::string_view filter);

// INVALID_ARGUMENT INVALID_FILTER for `term`, naming why.
absl::Status FilterError(const FilterTerm& term, absl::string_view detail);

// page_size: 0 → 50, above 200 → 200, negative → INVALID_ARGUMENT (field page_size).
absl::StatusOr<int> PageSize(int requested);

// A token carrying `keys` (the sort key of the last row returned), signed and bound to
// `binding` (tenant, RPC and every listing parameter) by libs/paging.
std::string EncodePageToken(absl::string_view binding, const std::vector<std::string>& keys);
// The keys of a token: PAGE_TOKEN_INVALID when it was altered, truncated or not issued by
// the ledger, PAGE_TOKEN_MISMATCH when it was made for other parameters.
absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view token,
                                                         absl::string_view binding);

}  // namespace kelola::ledger
