#pragma once

// The primitives the suite's tokens and keys share (page tokens, internal credentials, API
// keys): HMAC-SHA256, SHA-256 and a comparison whose time does not depend on the bytes.
// OpenSSL's libcrypto does the work.

#include <string>

#include "absl/strings/string_view.h"

namespace kelola::crypto {

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// SHA-256 of `data` as 64 lowercase hex digits (how API keys are stored).
std::string Sha256Hex(absl::string_view data);

// True when `a` and `b` are equal, in time independent of their contents.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace kelola::crypto
