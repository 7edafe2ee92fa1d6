#include "libs/auth/base64url.h"

#include "absl/strings/escaping.h"

namespace kelola::auth {
namespace {

// The 6-bit value of a base64url character, or -1.
int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) { return absl::WebSafeBase64Escape(data); }

std::optional<std::string> Base64UrlDecode(absl::string_view text) {
  for (char c : text) {
    if (SextetOf(c) < 0) return std::nullopt;
  }
  // The last character of a 2-character tail carries 4 unused bits, of a 3-character tail 2.
  switch (text.size() % 4) {
    case 1:
      return std::nullopt;
    case 2:
      if ((SextetOf(text.back()) & 0x0f) != 0) return std::nullopt;
      break;
    case 3:
      if ((SextetOf(text.back()) & 0x03) != 0) return std::nullopt;
      break;
  }
  // Every character is now of the alphabet and the length is valid: absl cannot disagree.
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(text, &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace kelola::auth
