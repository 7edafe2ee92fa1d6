#pragma once

// Pure text rules of quick search (C11, I2) and duplicate detection (C7): words of a
// folded text, how well a query word matches a stored word, honorifics. No SQL.

#include <string>
#include <string_view>
#include <vector>

#include "libs/text/trigram.h"

namespace kelola::customer::domain {

// The words of `folded` (FoldForMatch output): maximal runs of letters, digits and
// combining marks, in order, duplicates kept.
std::vector<std::string> SearchWords(std::string_view folded);

// Number of code points of valid UTF-8.
size_t CodePoints(std::string_view s);

// How well query word `q` matches stored word `w` (both folded), in [0, 1]:
//   1                          q == w
//   0.6 + 0.3 * |q|/|w|        w starts with q (typing in progress)
//   0.4 + 0.3 * |q|/|w|        w contains q, |q| >= 3 code points (Thai inside a word)
//   0.6 * sim                  sim = trigram similarity >= `threshold` (spelling variants)
//   0                          otherwise
double WordScore(std::string_view q, std::string_view w, double threshold);

// A query word with what WordScore needs of it computed once, for scoring it against many
// stored words.
struct QueryWord {
  explicit QueryWord(std::string_view folded);
  std::string text;
  size_t code_points = 0;
  std::vector<std::string> trigrams;  // text::Trigrams
  text::TrigramCodes trigram_codes;   // the same, as text::TrigramCodesOf
};

double WordScore(const QueryWord& q, std::string_view w, double threshold);

// `folded` without leading honorifics ("bu", "ibu", "pak", "bapak", "sdr", "sdri", "mr",
// "mrs", "ms", "คุณ", "นาย", "นาง", "นางสาว"), for name similarity between customers.
std::string StripHonorifics(std::string_view folded);

}  // namespace kelola::customer::domain
