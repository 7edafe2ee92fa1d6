#include "libs/csv/utf8.h"

#include <cstdint>
#include <cstring>

#include "libs/utf8/utf8.h"

namespace kelola::csv {
namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;
constexpr uint64_t kLowBits = 0x0101010101010101ULL;

// True when one of the 8 bytes of `word` is >= 0x80 or is 0.
bool NeedsCheck(uint64_t word) {
  return ((word & kHighBits) != 0) || (((word - kLowBits) & ~word & kHighBits) != 0);
}

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
    const size_t length = utf8::SequenceLength(text.substr(i));
    if (length == 0) return i;
    i += length;
  }
  return absl::string_view::npos;
}

}  // namespace kelola::csv
