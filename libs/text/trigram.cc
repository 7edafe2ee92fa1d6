#include "libs/text/trigram.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "libs/text/normalize.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace kelola::text {
namespace {

// A word is kept as the UTF-8 encodings of its code points.
using Word = std::vector<std::string_view>;

bool IsWordChar(UChar32 c) {
  if (c < 0) return false;
  if (u_isalnum(c)) return true;
  const int8_t type = u_charType(c);
  return type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK;
}

std::vector<Word> SplitWords(std::string_view text) {
  std::vector<Word> words;
  Word current;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    const int32_t begin = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (IsWordChar(c)) {
      current.push_back(text.substr(static_cast<size_t>(begin), static_cast<size_t>(i - begin)));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

void AppendWindows(const Word& cps, std::vector<std::string>* out) {
  for (size_t i = 0; i + 3 <= cps.size(); ++i) {
    std::string trigram;
    for (size_t k = i; k < i + 3; ++k) trigram.append(cps[k]);
    out->push_back(std::move(trigram));
  }
}

}  // namespace

std::vector<std::string> Trigrams(std::string_view folded) {
  static constexpr std::string_view kSpace = " ";
  std::vector<std::string> out;
  for (const Word& word : SplitWords(folded)) {
    Word padded;
    padded.reserve(word.size() + 3);
    padded.push_back(kSpace);
    padded.push_back(kSpace);
    padded.insert(padded.end(), word.begin(), word.end());
    padded.push_back(kSpace);
    AppendWindows(padded, &out);
  }
  SortUnique(&out);
  return out;
}

std::vector<std::string> SubstringTrigrams(std::string_view folded) {
  std::vector<std::string> out;
  for (const Word& word : SplitWords(folded)) AppendWindows(word, &out);
  SortUnique(&out);
  return out;
}

TrigramCodes TrigramCodesOf(std::string_view folded) {
  // The padded windows of Trigrams(), kept as a rolling pair of the word's last two code
  // points: "  w0", " w0 w1", ..., "w(n-2) w(n-1) " (a one-code-point word: "  w0", " w0 ").
  constexpr uint64_t kSpace = ' ';
  auto code = [](uint64_t a, uint64_t b, uint64_t c) { return a << 42 | b << 21 | c; };
  TrigramCodes out;
  uint64_t first = kSpace, second = kSpace;
  bool in_word = false;
  const auto* s = reinterpret_cast<const uint8_t*>(folded.data());
  const int32_t length = static_cast<int32_t>(folded.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (IsWordChar(c)) {
      out.push_back(code(first, second, static_cast<uint64_t>(c)));
      first = second;
      second = static_cast<uint64_t>(c);
      in_word = true;
    } else if (in_word) {
      out.push_back(code(first, second, kSpace));
      first = second = kSpace;
      in_word = false;
    }
  }
  if (in_word) out.push_back(code(first, second, kSpace));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// |A ∩ B| / |A ∪ B| of two sorted, duplicate-free ranges, counted in one merge pass.
template <typename Range, typename Compare>
double SortedSetSimilarity(const Range& a, const Range& b, Compare compare) {
  if (a.empty() && b.empty()) return 0.0;
  size_t common = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    const int c = compare(*i, *j);
    if (c == 0) {
      ++common;
      ++i;
      ++j;
    } else if (c < 0) {
      ++i;
    } else {
      ++j;
    }
  }
  const size_t union_size = a.size() + b.size() - common;
  return static_cast<double>(common) / static_cast<double>(union_size);
}

}  // namespace

double TrigramSetSimilarity(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return SortedSetSimilarity(
      a, b, [](const std::string& x, const std::string& y) { return x.compare(y); });
}

double TrigramCodeSimilarity(const TrigramCodes& a, const TrigramCodes& b) {
  return SortedSetSimilarity(a, b, [](uint64_t x, uint64_t y) { return x < y ? -1 : (x > y); });
}

double TrigramSimilarity(std::string_view a, std::string_view b) {
  return TrigramSetSimilarity(Trigrams(FoldForMatch(a)), Trigrams(FoldForMatch(b)));
}

}  // namespace kelola::text
