// Fuzzes phone input (I1): normalization of a number as typed, the search keys of a
// partial query, and the national number of a stored E.164 value.
//
// Input: byte 0 picks the tenant's region, the rest is the text typed.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "libs/phone/phone_normalizer.h"

namespace {

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kRegions[] = {"ID", "TH", "id", "US", "SG", "XX", ""};
  const std::string region = kRegions[data[0] % 7];
  const std::string raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const kelola::phone::PhoneNormalizer strict;
  static const kelola::phone::PhoneNormalizer lenient({.require_valid = false});

  for (const auto* normalizer : {&strict, &lenient}) {
    auto phone = normalizer->Normalize(raw, region);
    if (!phone.ok()) {
      FUZZ_CHECK(phone.status().code() == absl::StatusCode::kInvalidArgument);
      continue;
    }
    // The stored form is '+' and digits, reads back as itself, and its national number is
    // the one found without parsing.
    FUZZ_CHECK(phone->e164.size() > 1 && phone->e164[0] == '+' && AllDigits(phone->e164.substr(1)));
    auto again = normalizer->Normalize(phone->e164, region);
    FUZZ_CHECK(again.ok() && again->e164 == phone->e164);
    FUZZ_CHECK(kelola::phone::NationalSignificantNumber(phone->e164) ==
               phone->national_significant_number);
  }

  for (const std::string& key : strict.SearchKeys(raw, region)) {
    FUZZ_CHECK(key.size() >= kelola::phone::kMinSearchKeyDigits && AllDigits(key));
  }
  (void)kelola::phone::NationalSignificantNumber(raw);
  (void)kelola::phone::SearchableNationalNumber(raw);
  return 0;
}
