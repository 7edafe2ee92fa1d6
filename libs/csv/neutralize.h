#pragma once

// Formula-injection neutralization for CSV opened in spreadsheets (C15; OWASP "CSV Injection").
//
// Rule: a text cell whose first character is one of
//   = + - @ TAB CR   (and their full-width forms ＝ ＋ － ＠, U+FF1D U+FF0B U+FF0D U+FF20,
//                     which some spreadsheet locales also evaluate)
// is written with a leading apostrophe ('), so "=HYPERLINK(...)" becomes "'=HYPERLINK(...)".
// The apostrophe is visible when the file is opened; that is the price of safety. It applies to
// every text cell, so a phone in E.164 ("+628123456789") and a negative amount written as text
// ("-5000") are prefixed too. Numbers produced by the program itself can bypass the rule with
// Writer::AddNumber(), which only accepts a plain decimal (-?[0-9]+(.[0-9]+)?) and neutralizes
// anything else.
//
// Importing our own export: StripNeutralization() removes the apostrophe again.

#include <string>

#include "absl/strings/string_view.h"

namespace kelola::csv {

// True when `cell` starts with a character of the rule above.
bool NeedsNeutralization(absl::string_view cell);

// `cell`, with a leading apostrophe when NeedsNeutralization(cell).
std::string Neutralize(absl::string_view cell);

// The inverse for imports: "'=1+2" -> "=1+2" and "'+62812" -> "+62812"; any other value
// (including "'abc" and a lone "'") is returned unchanged. Ambiguous only for text that really
// started with an apostrophe followed by one of the characters above.
absl::string_view StripNeutralization(absl::string_view cell);

// True for a plain decimal number: an optional '-', digits, and optionally '.' and digits.
bool IsPlainNumber(absl::string_view cell);

}  // namespace kelola::csv
