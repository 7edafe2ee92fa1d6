#pragma once

// Locale-aware sort keys for "Name A–Z" (C13) that a database can compare bytewise.

#include <string>
#include <string_view>

namespace kelola::text {

// The ICU collation sort key of `text` for `locale` (BCP 47 or ICU id: "id", "th", "th-TH",
// "id_ID"; an unknown locale falls back to the root collation), hex-encoded in lower case.
// Hex keeps the byte order (two characters per byte, '0' < ... < '9' < 'a' < ... < 'f'), so
//   CollationKey(a, l) < CollationKey(b, l)  (std::string comparison)
// iff the collator orders a before b. Store it in a column compared BYTEWISE: SQLite's default
// BINARY collation, PostgreSQL `COLLATE "C"` -- never a linguistic column collation.
// Tertiary strength with full normalization: case and accents only break ties ("adi" <
// "Adi" < "Ádi" < "Budi"); for "th", Thai leading vowels are reordered as Thai dictionaries
// do ("เกษม" sorts under ก, before "ขวัญ").
// Keys depend on the ICU version (72 today): recompute stored keys after an ICU upgrade.
// Thread-safe: each thread uses its own clone of a cached collator per locale.
std::string CollationKey(std::string_view text, std::string_view locale);

}  // namespace kelola::text
