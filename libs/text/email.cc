#include "libs/text/email.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "libs/text/normalize.h"
#include "unicode/locid.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace kelola::text {
namespace {

constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxLocalBytes = 64;
constexpr size_t kMaxDomainBytes = 253;
constexpr size_t kMaxLabelBytes = 63;

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsLocalChar(unsigned char c) {
  if (c >= 0x80 || IsAsciiAlnum(c)) return true;
  static constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-.";
  return kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

bool ValidLocalPart(std::string_view local) {
  if (local.empty() || local.size() > kMaxLocalBytes) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  for (unsigned char c : local) {
    if (!IsLocalChar(c)) return false;
  }
  return true;
}

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelBytes) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (unsigned char c : label) {
    if (!(c >= 0x80 || IsAsciiAlnum(c) || c == '-')) return false;
  }
  return true;
}

bool ValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainBytes) return false;
  std::vector<absl::string_view> labels =
      absl::StrSplit(absl::string_view(domain.data(), domain.size()), '.');
  if (labels.size() < 2) return false;
  for (absl::string_view label : labels) {
    if (!ValidLabel(std::string_view(label.data(), label.size()))) return false;
  }
  std::string_view tld(labels.back().data(), labels.back().size());
  if (CodePointCount(tld) < 2) return false;
  bool all_digits = true;
  for (unsigned char c : tld) all_digits = all_digits && c >= '0' && c <= '9';
  return !all_digits;
}

}  // namespace

bool IsValidEmail(std::string_view email) {
  if (email.size() < 3 || email.size() > kMaxEmailBytes) return false;
  const auto* s = reinterpret_cast<const uint8_t*>(email.data());
  const int32_t length = static_cast<int32_t>(email.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0 || u_isUWhiteSpace(c) || u_charType(c) == U_CONTROL_CHAR || c == 0xFEFF) {
      return false;
    }
  }
  const size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return ValidLocalPart(email.substr(0, at)) && ValidDomain(email.substr(at + 1));
}

std::string NormalizeEmail(std::string_view email) {
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(Nfc(email));
  // Trim Unicode white space (and a stray BOM) at both ends.
  int32_t begin = 0;
  int32_t end = s.length();
  while (begin < end) {
    UChar32 c = s.char32At(begin);
    if (!(u_isUWhiteSpace(c) || c == 0xFEFF)) break;
    begin += U16_LENGTH(c);
  }
  while (end > begin) {
    UChar32 c = s.char32At(end - 1);
    if (!(u_isUWhiteSpace(c) || c == 0xFEFF)) break;
    end -= U16_LENGTH(c);
  }
  icu::UnicodeString trimmed(s, begin, end - begin);
  trimmed.toLower(icu::Locale::getRoot());
  std::string out;
  trimmed.toUTF8String(out);
  return Nfc(out);
}

}  // namespace kelola::text
