#pragma once

// UTF-8 validation for CSV fields (a fast path for ASCII, which most fields are).

#include <cstddef>

#include "absl/strings/string_view.h"

namespace kelola::csv {

// The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or of the first NUL byte; npos when
// `text` is valid. NUL counts as invalid because in a text file it means UTF-16 or binary data.
size_t FindInvalidUtf8(absl::string_view text);

}  // namespace kelola::csv
