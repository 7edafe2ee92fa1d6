#pragma once

// The filter grammar every List RPC shares (AIP-160 subset): terms `field op value` joined by
// AND, where op is one of = != < <= > >= and a value is a "quoted string" (backslash
// escapes the next character) or a bare word (enum, integer, boolean, date). Which fields,
// operators and values mean something is each RPC's business; this only reads the text.

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::filter {

struct FilterTerm {
  std::string field;
  std::string op;  // = != < <= > >=
  std::string value;
  bool quoted = false;  // a "string" (else a bare word: enum, integer, boolean)
  int position = 0;     // offset of the term in the filter text
};

// Terms joined by AND. INVALID_ARGUMENT INVALID_FILTER (field `filter`, metadata position
// and detail).
absl::StatusOr<std::vector<FilterTerm>> ParseFilter(absl::string_view filter);

// INVALID_ARGUMENT INVALID_FILTER for `term`, naming why.
absl::Status FilterError(const FilterTerm& term, absl::string_view detail);

// How often a field may appear: a field of `range_fields` twice to give both bounds (at most
// one lower bound > >= and one upper bound < <=, where = is both), every other field once.
// OK, or INVALID_FILTER at the first term that repeats a field or a bound.
absl::Status CheckTermsOnce(const std::vector<FilterTerm>& terms,
                            const std::set<std::string>& range_fields);

}  // namespace kelola::filter
