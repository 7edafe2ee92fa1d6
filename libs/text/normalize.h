#pragma once

// Unicode normalization for storage and matching (I2, C11), with ICU.
//
// All functions are thread-safe: the ICU Normalizer2 instances used are immutable process-wide
// singletons. Text is UTF-8. Functions that return std::string replace invalid UTF-8
// sequences with U+FFFD; use TrimmedName() or IsValidUtf8() where invalid input must be
// refused instead.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kelola::text {

// Machine-readable reasons (INVALID_ARGUMENT).
inline constexpr char kReasonTextInvalidUtf8[] = "TEXT_INVALID_UTF8";
inline constexpr char kReasonTextControlCharacter[] = "TEXT_CONTROL_CHARACTER";
inline constexpr char kReasonTextEmpty[] = "TEXT_EMPTY";
inline constexpr char kReasonTextTooLong[] = "TEXT_TOO_LONG";

bool IsValidUtf8(std::string_view text);

// Number of code points; an invalid sequence counts as one.
size_t CodePointCount(std::string_view text);

// Unicode Normalization Form C (canonical composition): the form text is stored in.
std::string Nfc(std::string_view text);

// The key for tolerant matching (not for display):
//  1. NFKC + full case folding + removal of default-ignorable code points (ICU
//     "nfkc_cf"): "ＢＵＤＩ" -> "budi", "Straße" -> "strasse", zero-width spaces vanish;
//  2. combining marks (Mn) that follow a LATIN base letter are removed, so "José", "Jose\u0301"
//     and "JOSE" all give "jose". Marks on other scripts are kept: Thai vowel and tone marks
//     are part of the spelling, and "สมชาย ใจดี" folds to itself;
//  3. runs of white space and control characters become one space; leading and trailing
//     ones are removed.
// Note that NFKC rewrites THAI CHARACTER SARA AM (U+0E33) as NIKHAHIT + SARA AA; both sides
// of a comparison are folded, so matching is unaffected. The result is NFC. Idempotent.
std::string FoldForMatch(std::string_view text);

// A name-like value ready to store: valid UTF-8 (else TEXT_INVALID_UTF8), no control
// characters other than white space (else TEXT_CONTROL_CHARACTER), NFC, runs of white space
// collapsed to one space, trimmed; then not empty (else TEXT_EMPTY) and at most `max_chars`
// code points (else TEXT_TOO_LONG -- never silently truncated). Case and accents are kept.
absl::StatusOr<std::string> TrimmedName(std::string_view text, size_t max_chars);

}  // namespace kelola::text
