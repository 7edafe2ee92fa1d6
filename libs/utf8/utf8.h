#pragma once

// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.
// The one decoder of sequence boundaries that validation (CSV fields) and truncation on
// character boundaries (error messages) share.

#include <cstddef>

#include "absl/strings/string_view.h"

namespace kelola::utf8 {

// The length (1 to 4) of the well-formed UTF-8 sequence at the start of `text`, or 0 when
// `text` is empty or does not start with one.
size_t SequenceLength(absl::string_view text);

}  // namespace kelola::utf8
