#pragma once

// Keyset page tokens (AIP-158) for ListCustomers, SearchCustomers and FindDuplicates: the
// last item's sort key plus values fixed on the first page (e.g. "now"), signed and bound
// to the RPC (`kind`), the tenant and the listing parameters (`binding`) by libs/paging.
// Opaque to clients; a token the service did not issue is refused, never read.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/paging/page_token.h"

namespace kelola::customer::domain {

inline constexpr const char* kReasonPageTokenMismatch = paging::kReasonPageTokenMismatch;
inline constexpr const char* kReasonPageTokenInvalid = paging::kReasonPageTokenInvalid;

// FNV-1a 64 of `data`: stable across processes and releases (not for tokens).
uint64_t StableHash(absl::string_view data);

std::string EncodeKeysetToken(absl::string_view kind, absl::string_view tenant,
                              absl::string_view binding, const std::vector<std::string>& values);

// The values of `token`. INVALID_ARGUMENT naming `page_token`: PAGE_TOKEN_INVALID when the
// token was altered, truncated, or issued by another RPC (`kind`) or tenant;
// PAGE_TOKEN_MISMATCH when it was issued for other listing parameters (`binding`).
absl::StatusOr<std::vector<std::string>> DecodeKeysetToken(absl::string_view token,
                                                           absl::string_view kind,
                                                           absl::string_view tenant,
                                                           absl::string_view binding);

}  // namespace kelola::customer::domain
