#include "customer-svc/store/query_paging.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/domain/list_page_token.h"
#include "libs/errors/errors.h"

namespace kelola::customer::store::query_paging {
namespace {

// An upper bound of what one customer adds to a page on the wire besides its stored data:
// CustomerStats with two amounts, three times and two counters (about 110 bytes at most),
// and the framing of the repeated field.
constexpr size_t kCustomerOverheadBytes = 160;

}  // namespace

std::string DoubleBits(double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof(bits));
  return absl::StrCat(bits);
}

bool ParseDoubleBits(const std::string& s, double* d) {
  uint64_t bits = 0;
  if (!absl::SimpleAtoi(s, &bits)) return false;
  std::memcpy(d, &bits, sizeof(bits));
  return std::isfinite(*d);
}

absl::Status InvalidToken() {
  return errors::Error(absl::StatusCode::kInvalidArgument, domain::kReasonPageTokenInvalid,
                       "page_token is invalid", {}, {{"page_token", "malformed"}});
}

size_t PageItemBytes(size_t data_bytes) { return data_bytes + kCustomerOverheadBytes; }

}  // namespace kelola::customer::store::query_paging
