#include "libs/csv/neutralize.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kelola::csv {
namespace {

// UTF-8 of the full-width forms: ＝ ＋ － ＠.
constexpr absl::string_view kFullWidth[] = {"\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D",
                                            "\xEF\xBC\xA0"};

}  // namespace

bool NeedsNeutralization(absl::string_view cell) {
  if (cell.empty()) return false;
  switch (cell.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    case '\xEF':
      for (absl::string_view prefix : kFullWidth) {
        if (absl::StartsWith(cell, prefix)) return true;
      }
      return false;
    default:
      return false;
  }
}

std::string Neutralize(absl::string_view cell) {
  if (!NeedsNeutralization(cell)) return std::string(cell);
  return absl::StrCat("'", cell);
}

absl::string_view StripNeutralization(absl::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '\'' && NeedsNeutralization(cell.substr(1))) {
    return cell.substr(1);
  }
  return cell;
}

bool IsPlainNumber(absl::string_view cell) {
  size_t i = 0;
  if (i < cell.size() && cell[i] == '-') ++i;
  const size_t int_start = i;
  while (i < cell.size() && cell[i] >= '0' && cell[i] <= '9') ++i;
  if (i == int_start) return false;
  if (i == cell.size()) return true;
  if (cell[i] != '.') return false;
  const size_t frac_start = ++i;
  while (i < cell.size() && cell[i] >= '0' && cell[i] <= '9') ++i;
  return i > frac_start && i == cell.size();
}

}  // namespace kelola::csv
