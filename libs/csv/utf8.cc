#include "libs/csv/utf8.h"

#include <cstdint>
#include <cstring>

namespace kelola::csv {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;
constexpr uint64_t kLowBits = 0x0101010101010101ULL;

// True when one of the 8 bytes of `word` is >= 0x80 or is 0.
bool NeedsCheck(uint64_t word) {
  return ((word & kHighBits) != 0) || (((word - kLowBits) & ~word & kHighBits) != 0);
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

size_t FindInvalidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, sizeof(word));
      if (NeedsCheck(word)) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    unsigned char min2 = 0x80;
    unsigned char max2 = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) min2 = 0xA0;  // overlong
      if (c == 0xED) max2 = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) min2 = 0x90;  // overlong
      if (c == 0xF4) max2 = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > n) return i;
    if (p[i + 1] < min2 || p[i + 1] > max2) return i;
    for (size_t k = 2; k < length; ++k) {
      if (!IsContinuation(p[i + k])) return i;
    }
    i += length;
  }
  return absl::string_view::npos;
}

}  // namespace kelola::csv
