#pragma once

// Opaque page tokens for the directory's small lists (categories, price lists, upcoming
// birthdays): an offset, signed and bound to the list (`kind`) and its parameters by
// libs/paging, so that a token used with other parameters is refused (PAGE_TOKEN_MISMATCH)
// and an altered or foreign one is refused (PAGE_TOKEN_INVALID).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::customer::domain {

// `binding`: the listing's parameters other than page size and token, in a stable form.
std::string EncodePageToken(absl::string_view kind, absl::string_view binding, int64_t offset);

// The offset of `token` (0 for an empty token). INVALID_ARGUMENT PAGE_TOKEN_INVALID or
// PAGE_TOKEN_MISMATCH naming page_token.
absl::StatusOr<int64_t> DecodePageToken(absl::string_view token, absl::string_view kind,
                                        absl::string_view binding);

// page_size: 0 -> `default_size`, above `max_size` -> `max_size`, negative -> INVALID_ARGUMENT
// naming page_size.
absl::StatusOr<int> EffectivePageSize(int page_size, int default_size, int max_size);

}  // namespace kelola::customer::domain
