#pragma once

// Phone numbers (I1, C6, C8, C11): parsing and normalization with libphonenumber, and the
// digit keys that quick search looks up.
//
// Thread-safe: a PhoneNormalizer holds only its options; libphonenumber's PhoneNumberUtil is
// a thread-safe singleton.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kelola::phone {

// Machine-readable reasons (INVALID_ARGUMENT).
inline constexpr char kReasonPhoneInvalid[] = "PHONE_INVALID";
// The default region passed by the caller (a tenant setting) is not a region
// libphonenumber knows, e.g. "XX".
inline constexpr char kReasonPhoneRegionUnsupported[] = "PHONE_REGION_UNSUPPORTED";

// Search keys shorter than this are dropped: they would match almost every number.
inline constexpr size_t kMinSearchKeyDigits = 3;

struct NormalizedPhone {
  std::string e164;                         // "+628123456789": the stored, unique form
  std::string national_significant_number;  // "8123456789": no country code, no trunk '0'
  std::string region;                       // "ID": region of the number itself (CLDR code)
  std::string extension;                    // "12" for "021 555 0123 ext 12"; usually empty
  std::string raw;                          // as typed, with surrounding white space trimmed
};

struct PhoneNormalizerOptions {
  // true: the number must be valid for its region per libphonenumber's metadata
  // (IsValidNumber). false: a number of possible length is enough (IsPossibleNumber), for
  // deployments whose metadata lags new number ranges.
  bool require_valid = true;
  // Longer input is refused before parsing.
  size_t max_raw_length = 64;
};

class PhoneNormalizer {
 public:
  explicit PhoneNormalizer(PhoneNormalizerOptions options = {});

  // Parses `raw` as typed by a user. Numbers without a leading '+' are read in
  // `default_region` (the tenant's, "ID" or "TH"; case-insensitive), so all of these give
  // +628123456789 for "ID":
  //   "0812-3456-789", "+62 812 3456 789", "628123456789", "(0812) 3456 789",
  //   "+62 (0)812 3456 789", "0812.3456.789"
  // and for "TH": "081 234 5678", "+66 81 234 5678", "๐๘๑ ๒๓๔ ๕๖๗๘" -> +66812345678.
  // A '+' number of another country is accepted and keeps its own region.
  // Letters are refused (no vanity numbers such as "0812-ABC-DEF") except an extension
  // marker: "ext", "ext.", "extn", "extension", "x", "#".
  // Errors: INVALID_ARGUMENT PHONE_INVALID (empty, too long, letters, not a number, invalid
  // for its region), PHONE_REGION_UNSUPPORTED (unknown default_region).
  absl::StatusOr<NormalizedPhone> Normalize(std::string_view raw,
                                            std::string_view default_region) const;

  // The digit strings to look up as SUBSTRINGS of stored national significant numbers for a
  // partial phone query typed any way; a stored number matches when it contains any key.
  // Empty when the query is not phone-like.
  //
  // Rule (region = the tenant's default region, country code cc, trunk prefix "0"):
  //  1. The query may contain only digits (any script: Thai ๐-๙ count), white space and
  //     + - . ( ) /  -- anything else (letters, '@') means "not a phone query": no keys.
  //  2. With a leading '+': the first digits must form a complete country calling code (any
  //     country); it is removed, then one trunk '0' if present ("+62 (0)812").
  //     "+62 812" -> "812", "+66 81 234" -> "81234"; "+6" (incomplete code) -> no keys.
  //  3. Without '+': a leading trunk '0' is removed ("0812-34" -> "81234"); otherwise a
  //     leading cc of `region` is removed, then one trunk '0' if present
  //     ("6281234" -> "81234" for ID, "66812" -> "812" for TH).
  //  4. Otherwise the digits are used as typed ("3456" -> "3456").
  //  5. Keys with fewer than kMinSearchKeyDigits digits are dropped.
  // Removing a prefix only widens the match (every number containing "6281234" also
  // contains "81234"), so the single key never misses a number the typed digits would find.
  std::vector<std::string> SearchKeys(std::string_view query, std::string_view region) const;

 private:
  PhoneNormalizerOptions options_;
};

// The national significant number of a stored E.164 number ("+628123456789" ->
// "8123456789"), by removing its country calling code, without parsing it again; "" when
// `e164` is not '+' and digits starting with a known country calling code.
std::string NationalSignificantNumber(std::string_view e164);

// NationalSignificantNumber, or, when the country calling code is unknown, everything
// after the '+': the digits that quick search matches stored numbers against.
std::string SearchableNationalNumber(std::string_view e164);

}  // namespace kelola::phone
