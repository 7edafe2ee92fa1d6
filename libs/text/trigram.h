#pragma once

// Trigrams for fuzzy and substring search over names (C11, C7 FindDuplicates).
//
// Input of Trigrams()/SubstringTrigrams() is text already passed through FoldForMatch().
// Trigrams are sequences of three Unicode CODE POINTS (not bytes, not grapheme clusters),
// returned as UTF-8 strings, sorted bytewise and without duplicates.
//
// Words: maximal runs of letters, digits and combining marks (so Thai vowel and tone marks
// stay inside their word); everything else -- spaces, punctuation, symbols -- separates
// words and never appears inside a trigram except as padding.
//
// Padding (as PostgreSQL pg_trgm does): each word is padded with two spaces in front and one
// behind, so "budi" gives "  b", " bu", "bud", "udi", "di ". The padded trigrams let short
// words and word starts weigh in similarity. Trigrams never cross a word boundary, so word
// order does not matter much ("Santoso Budi" ~ "Budi Santoso").
//
// Thai is written without spaces between words, so a query may start or end in the middle
// of a stored "word" (e.g. "ชาย" inside "สมชาย"). For such substring search use
// SubstringTrigrams(query): only the unpadded trigrams inside each query word. If folded
// query q is a substring of folded text s, then SubstringTrigrams(q) is a subset of
// Trigrams(s); a store can therefore prefilter rows on those trigrams (index) and confirm
// with a plain substring test on the folded text. Queries whose words are all shorter than
// three code points have no substring trigrams: fall back to a scan/prefix match.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"

namespace kelola::text {

// Names whose TrigramSimilarity() reaches this are "similar" (pg_trgm's default
// similarity_threshold). A one-letter typo in a two-word name scores far above it:
// "Budi Santoso" vs "Budi Santosa" = 11/15 = 0.73; "Ani" vs "Any" = 2/6 = 0.33.
inline constexpr double kDefaultSimilarityThreshold = 0.3;

// Padded trigrams of every word of `folded` (see above).
std::vector<std::string> Trigrams(std::string_view folded);

// Unpadded trigrams inside each word of `folded` (for substring queries; see above).
std::vector<std::string> SubstringTrigrams(std::string_view folded);

// |A ∩ B| / |A ∪ B| of two sorted, duplicate-free trigram lists; 0 when both are empty.
double TrigramSetSimilarity(const std::vector<std::string>& a, const std::vector<std::string>& b);

// The same trigrams as Trigrams(folded), each as one integer: its three code points, 21 bits
// each, first code point highest. Sorted by value, without duplicates. For scoring many
// words against one query without building strings: two words' code sets have the same
// intersection and union sizes as their Trigrams().
using TrigramCodes = absl::InlinedVector<uint64_t, 32>;
TrigramCodes TrigramCodesOf(std::string_view folded);

// |A ∩ B| / |A ∪ B| of two TrigramCodesOf() results; equal to TrigramSetSimilarity of the
// words' Trigrams(); 0 when both are empty.
double TrigramCodeSimilarity(const TrigramCodes& a, const TrigramCodes& b);

// TrigramSetSimilarity(Trigrams(FoldForMatch(a)), Trigrams(FoldForMatch(b))), in [0, 1].
// Folding is applied here, so raw user text can be passed.
double TrigramSimilarity(std::string_view a, std::string_view b);

}  // namespace kelola::text
