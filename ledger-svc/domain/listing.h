#pragma once

// List parameters shared by the ledger's List RPCs: the AIP-160 filter subset and the
// opaque page tokens bound to the tenant, RPC and listing parameters.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/filter/filter.h"

namespace kelola::ledger {

// The filter grammar is the suite's (libs/filter).
using filter::FilterError;
using filter::FilterTerm;
using filter::ParseFilter;

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
