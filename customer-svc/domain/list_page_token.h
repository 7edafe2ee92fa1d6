#pragma once

// Keyset page tokens (AIP-158) for ListCustomers, SearchCustomers and FindDuplicates:
// the last item's sort key plus values fixed on the first page (e.g. "now"), bound to the
// tenant and to the listing parameters by stable 64-bit hashes (FNV-1a).
//
// Wire form: web-safe base64 (no padding) of
//   "k1" <kind> <fnv(tenant)> <fnv(binding)> <value>*
// where every part is written as <decimal length> ':' <bytes>. Opaque to clients.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::customer::domain {

inline constexpr char kReasonPageTokenMismatch[] = "PAGE_TOKEN_MISMATCH";
inline constexpr char kReasonPageTokenInvalid[] = "PAGE_TOKEN_INVALID";

// FNV-1a 64 of `data`: stable across processes and releases.
uint64_t StableHash(absl::string_view data);

std::string EncodeKeysetToken(absl::string_view kind, absl::string_view tenant,
                              absl::string_view binding, const std::vector<std::string>& values);

// The values of `token`. INVALID_ARGUMENT naming `page_token`: PAGE_TOKEN_INVALID when the
// token is malformed or was issued by another RPC (`kind`) or tenant; PAGE_TOKEN_MISMATCH
// when it was issued for other listing parameters (`binding`).
absl::StatusOr<std::vector<std::string>> DecodeKeysetToken(absl::string_view token,
                                                           absl::string_view kind,
                                                           absl::string_view tenant,
                                                           absl::string_view binding);

}  // namespace kelola::customer::domain
