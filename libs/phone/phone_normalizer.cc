#include "libs/phone/phone_normalizer.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "phonenumbers/phonenumber.pb.h"
#include "phonenumbers/phonenumberutil.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace kelola::phone {
namespace {

using ::i18n::phonenumbers::PhoneNumber;
using ::i18n::phonenumbers::PhoneNumberUtil;

constexpr char kUnknownRegion[] = "ZZ";

// Country calling codes are prefix-free: the first 1-3 digits that name one win. Returns
// their length (0 when none) and the code's main region.
size_t CountryCodeLength(const std::string& digits, std::string* region) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  for (size_t n = 1; n <= 3 && n <= digits.size(); ++n) {
    int code = 0;
    if (!absl::SimpleAtoi(digits.substr(0, n), &code)) return 0;
    std::string candidate;
    util.GetRegionCodeForCountryCode(code, &candidate);
    if (candidate != kUnknownRegion) {
      *region = candidate;
      return n;
    }
  }
  return 0;
}

absl::Status Invalid(absl::string_view message) {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPhoneInvalid, message);
}

// One decoded code point of UTF-8 text; `cp` < 0 for an invalid sequence.
struct CodePoint {
  UChar32 cp;
  size_t begin;
  size_t end;
};

std::vector<CodePoint> Decode(std::string_view text) {
  std::vector<CodePoint> out;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    int32_t begin = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    out.push_back({c, static_cast<size_t>(begin), static_cast<size_t>(i)});
  }
  return out;
}

bool IsSpace(UChar32 c) { return u_isUWhiteSpace(c) || c == 0xFEFF; }

// `text` without leading and trailing white space (Unicode, incl. NBSP and BOM).
std::string_view TrimSpaces(std::string_view text) {
  std::vector<CodePoint> cps = Decode(text);
  size_t first = 0;
  while (first < cps.size() && cps[first].cp >= 0 && IsSpace(cps[first].cp)) ++first;
  size_t last = cps.size();
  while (last > first && cps[last - 1].cp >= 0 && IsSpace(cps[last - 1].cp)) --last;
  if (first == last) return {};
  return text.substr(cps[first].begin, cps[last - 1].end - cps[first].begin);
}

bool IsExtensionMarker(const std::string& lower_word) {
  return lower_word == "x" || lower_word == "ext" || lower_word == "extn" ||
         lower_word == "extension";
}

// Letters are allowed only as extension markers.
bool HasStrayLetters(const std::vector<CodePoint>& cps) {
  std::string word;
  bool word_is_ascii = true;
  auto word_ok = [&] { return word.empty() || (word_is_ascii && IsExtensionMarker(word)); };
  for (const CodePoint& c : cps) {
    if (c.cp >= 0 && u_isalpha(c.cp)) {
      if (c.cp < 0x80) {
        word.push_back(absl::ascii_tolower(static_cast<char>(c.cp)));
      } else {
        word_is_ascii = false;
        word.push_back('?');
      }
      continue;
    }
    if (!word_ok()) return true;
    word.clear();
    word_is_ascii = true;
  }
  return !word_ok();
}

// "id" -> "ID"; empty -> "ZZ". False for a region libphonenumber does not know.
bool CanonicalRegion(std::string_view region, std::string* out) {
  if (region.empty()) {
    *out = kUnknownRegion;
    return true;
  }
  *out = absl::AsciiStrToUpper(std::string(region));
  return PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(*out) != 0;
}

// The region's trunk ("national direct dialling") prefix, "0" for ID and TH.
std::string TrunkPrefix(const std::string& region) {
  std::string prefix;
  PhoneNumberUtil::GetInstance()->GetNddPrefixForRegion(region, /*strip_non_digits=*/true, &prefix);
  return prefix;
}

}  // namespace

PhoneNormalizer::PhoneNormalizer(PhoneNormalizerOptions options) : options_(options) {}

absl::StatusOr<NormalizedPhone> PhoneNormalizer::Normalize(std::string_view raw,
                                                           std::string_view default_region) const {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::string region;
  if (!CanonicalRegion(default_region, &region)) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonPhoneRegionUnsupported,
        absl::StrCat("unknown phone region \"", std::string(default_region.substr(0, 8)), "\""),
        {{"region", std::string(default_region.substr(0, 8))}});
  }
  if (raw.size() > options_.max_raw_length * 4) {
    return Invalid("phone number is too long");
  }
  std::string_view trimmed = TrimSpaces(raw);
  std::vector<CodePoint> cps = Decode(trimmed);
  if (cps.empty()) return Invalid("phone number is empty");
  if (cps.size() > options_.max_raw_length) return Invalid("phone number is too long");
  for (const CodePoint& c : cps) {
    if (c.cp < 0) return Invalid("phone number is not valid UTF-8");
  }
  if (HasStrayLetters(cps)) return Invalid("phone number contains letters");

  PhoneNumber number;
  if (util.Parse(std::string(trimmed), region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return Invalid("not a phone number");
  }
  const bool acceptable =
      options_.require_valid ? util.IsValidNumber(number) : util.IsPossibleNumber(number);
  if (!acceptable) {
    return Invalid(
        absl::StrCat("not a valid phone number for country code +", number.country_code()));
  }
  NormalizedPhone out;
  util.Format(number, PhoneNumberUtil::E164, &out.e164);
  // The stored form must read back as itself. "+62 0 0812..." is possible-length as
  // +620812..., which reads back as +62812... (one trunk '0' dropped), another number.
  PhoneNumber stored;
  std::string again;
  if (util.Parse(out.e164, region, &stored) == PhoneNumberUtil::NO_PARSING_ERROR) {
    util.Format(stored, PhoneNumberUtil::E164, &again);
  }
  if (again != out.e164) {
    return Invalid(absl::StrCat("not a phone number of country code +", number.country_code(),
                                " (a leading 0 too many?)"));
  }
  util.GetNationalSignificantNumber(number, &out.national_significant_number);
  util.GetRegionCodeForNumber(number, &out.region);
  if (out.region == kUnknownRegion) {
    util.GetRegionCodeForCountryCode(number.country_code(), &out.region);
  }
  if (number.has_extension()) out.extension = number.extension();
  out.raw = std::string(trimmed);
  return out;
}

std::vector<std::string> PhoneNormalizer::SearchKeys(std::string_view query,
                                                     std::string_view region) const {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  if (query.size() > 4 * options_.max_raw_length) return {};
  std::string digits;
  bool plus = false;
  for (const CodePoint& c : Decode(query)) {
    if (c.cp < 0) return {};
    if (u_charType(c.cp) == U_DECIMAL_DIGIT_NUMBER) {
      digits.push_back(static_cast<char>('0' + u_charDigitValue(c.cp)));
    } else if (c.cp == '+') {
      if (!digits.empty() || plus) return {};  // '+' only in front
      plus = true;
    } else if (!(IsSpace(c.cp) || c.cp == '-' || c.cp == '.' || c.cp == '(' || c.cp == ')' ||
                 c.cp == '/')) {
      return {};
    }
  }

  std::string key;
  if (plus) {
    std::string cc_region;
    const size_t cc_length = CountryCodeLength(digits, &cc_region);
    if (cc_length == 0) return {};
    key = digits.substr(cc_length);
    std::string trunk = TrunkPrefix(cc_region);
    if (!trunk.empty() && absl::StartsWith(key, trunk)) key.erase(0, trunk.size());
  } else {
    std::string canonical;
    const bool known_region = CanonicalRegion(region, &canonical) && canonical != kUnknownRegion;
    std::string trunk = known_region ? TrunkPrefix(canonical) : "";
    std::string cc =
        known_region ? absl::StrCat(util.GetCountryCodeForRegion(canonical)) : std::string();
    key = digits;
    if (!trunk.empty() && absl::StartsWith(key, trunk)) {
      key.erase(0, trunk.size());
    } else if (!cc.empty() && absl::StartsWith(key, cc)) {
      key.erase(0, cc.size());
      if (!trunk.empty() && absl::StartsWith(key, trunk)) key.erase(0, trunk.size());
    }
  }
  if (key.size() < kMinSearchKeyDigits) return {};
  return {std::move(key)};
}

std::string NationalSignificantNumber(std::string_view e164) {
  if (e164.size() < 2 || e164[0] != '+') return "";
  const std::string digits(e164.substr(1));
  for (char c : digits) {
    if (c < '0' || c > '9') return "";
  }
  std::string region;
  const size_t cc_length = CountryCodeLength(digits, &region);
  if (cc_length == 0) return "";
  return digits.substr(cc_length);
}

std::string SearchableNationalNumber(std::string_view e164) {
  std::string nsn = NationalSignificantNumber(e164);
  if (!nsn.empty()) return nsn;
  return std::string(e164.size() > 1 ? e164.substr(1) : e164);
}

}  // namespace kelola::phone
