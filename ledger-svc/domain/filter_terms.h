#pragma once

// How often a field may appear in a List filter (the contract's AIP-160 subset): a range
// field may appear twice to give both bounds, at most one lower bound (> >=) and one
// upper bound (< <=), where `=` is both; every other field at most once.

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ledger-svc/domain/listing.h"

namespace kelola::ledger {

// OK, or INVALID_ARGUMENT INVALID_FILTER (field `filter`; metadata position and detail)
// at the first term that repeats a field or a bound.
absl::Status CheckTermsOnce(const std::vector<FilterTerm>& terms,
                            const std::set<std::string>& range_fields);

}  // namespace kelola::ledger
