#include "customer-svc/domain/search_text.h"

#include <cstdint>
#include <string>
#include <vector>

#include "libs/text/trigram.h"
#include "unicode/uchar.h"
#include "unicode/utf8.h"

namespace kelola::customer::domain {
namespace {

bool IsWordChar(UChar32 c) {
  if (c < 0) return false;
  if (u_isalnum(c)) return true;
  const int8_t type = u_charType(c);
  return type == U_NON_SPACING_MARK || type == U_COMBINING_SPACING_MARK || type == U_ENCLOSING_MARK;
}

}  // namespace

std::vector<std::string> SearchWords(std::string_view folded) {
  std::vector<std::string> words;
  std::string current;
  const auto* s = reinterpret_cast<const uint8_t*>(folded.data());
  const int32_t length = static_cast<int32_t>(folded.size());
  for (int32_t i = 0; i < length;) {
    const int32_t begin = i;
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (IsWordChar(c)) {
      current.append(folded.substr(begin, i - begin));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

QueryWord::QueryWord(std::string_view folded)
    : text(folded),
      code_points(CodePoints(folded)),
      trigrams(text::Trigrams(folded)),
      trigram_codes(text::TrigramCodesOf(folded)) {}

double WordScore(const QueryWord& query, std::string_view w, double threshold) {
  const std::string_view q = query.text;
  if (q.empty() || w.empty()) return 0;
  if (q == w) return 1.0;
  const double lq = static_cast<double>(query.code_points);
  const double lw = static_cast<double>(CodePoints(w));
  if (w.size() > q.size() && w.substr(0, q.size()) == q) return 0.6 + 0.3 * lq / lw;
  if (lq >= 3 && w.find(q) != std::string_view::npos) return 0.4 + 0.3 * lq / lw;
  const double sim = text::TrigramCodeSimilarity(query.trigram_codes, text::TrigramCodesOf(w));
  if (sim >= threshold) return 0.6 * sim;
  return 0;
}

double WordScore(std::string_view q, std::string_view w, double threshold) {
  return WordScore(QueryWord(q), w, threshold);
}

std::string StripHonorifics(std::string_view folded) {
  static const char* const kHonorifics[] = {"bu",     "ibu", "pak", "bapak", "sdr", "sdri",
                                            "mr",     "mrs", "ms",  "คุณ",    "นาย", "นาง",
                                            "นางสาว", "kak", "mas", "mbak",  "koh", "cik"};
  std::string_view rest = folded;
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (const char* h : kHonorifics) {
      const std::string_view hv(h);
      if (rest.size() > hv.size() + 1 && rest.substr(0, hv.size()) == hv &&
          (rest[hv.size()] == ' ' || rest[hv.size()] == '.')) {
        rest.remove_prefix(hv.size() + 1);
        while (!rest.empty() && (rest[0] == ' ' || rest[0] == '.')) rest.remove_prefix(1);
        stripped = true;
        break;
      }
    }
  }
  return std::string(rest);
}

}  // namespace kelola::customer::domain
