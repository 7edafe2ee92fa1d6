#include "ledger-svc/domain/listing.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "libs/paging/page_token.h"

namespace kelola::ledger {
namespace {

// The ledger's bindings name the tenant and the RPC themselves.
constexpr char kPageTokenKind[] = "ledger";

}  // namespace

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "page_size must not be negative", {},
                         {{"page_size", "must not be negative"}});
  }
  if (requested == 0) return 50;
  return requested > 200 ? 200 : requested;
}

std::string EncodePageToken(absl::string_view binding, const std::vector<std::string>& keys) {
  return paging::EncodeToken(kPageTokenKind, "", binding, keys);
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view token,
                                                         absl::string_view binding) {
  return paging::DecodeToken(token, kPageTokenKind, "", binding);
}

}  // namespace kelola::ledger
