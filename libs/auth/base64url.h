#pragma once

// Base64url (RFC 4648 section 5) as JOSE uses it (RFC 7515 section 2): no padding, and
// decoding is strict, so that one token has exactly one spelling.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace kelola::auth {

// `data` in base64url without padding.
std::string Base64UrlEncode(absl::string_view data);

// The bytes of `text`, or nullopt when `text` has padding, whitespace or any character
// outside [A-Za-z0-9_-], a length that no encoding has (4k+1), or non-zero unused bits in
// its last character (a second spelling of the same bytes).
std::optional<std::string> Base64UrlDecode(absl::string_view text);

}  // namespace kelola::auth
