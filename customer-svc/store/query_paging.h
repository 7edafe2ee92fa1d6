#pragma once

// Internal to customer-svc's query side (customer_query.h): what lists, search and the
// duplicate finder share about pages — scores carried exactly in page tokens, the error of a
// token holding bad values, and how many results fit a response's byte budget.

#include <cstddef>
#include <string>

#include "absl/status/status.h"

namespace kelola::customer::store::query_paging {

// The exact bits of `d` as decimal text (page tokens carry scores without rounding).
std::string DoubleBits(double d);

// Reverses DoubleBits; false when `s` is not a number or not a finite double.
bool ParseDoubleBits(const std::string& s, double* d);

// INVALID_ARGUMENT PAGE_TOKEN_INVALID: a page token that decoded but holds bad values.
absl::Status InvalidToken();

// An upper bound of the bytes one customer with `data_bytes` of stored data takes in a page
// on the wire (its stats and the framing included).
size_t PageItemBytes(size_t data_bytes);

// How many of the first `n` items fit in `budget` bytes, `size_of(i)` being item i's size;
// at least one (a single customer is far below any budget). 0 = no budget.
template <typename SizeOf>
size_t FitPage(size_t n, size_t budget, SizeOf size_of) {
  if (budget == 0) return n;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    used += size_of(i);
    if (used > budget && i > 0) return i;
  }
  return n;
}

}  // namespace kelola::customer::store::query_paging
