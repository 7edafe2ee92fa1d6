#include "libs/filter/filter.h"

#include <cctype>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::filter {
namespace {

absl::Status Invalid(int position, absl::string_view detail) {
  return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_FILTER",
                       absl::StrCat("invalid filter at ", position, ": ", detail),
                       {{"position", absl::StrCat(position)}, {"detail", std::string(detail)}},
                       {{"filter", std::string(detail)}});
}

bool IsFieldChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

absl::Status FilterError(const FilterTerm& term, absl::string_view detail) {
  return Invalid(term.position, absl::StrCat(term.field, ": ", detail));
}

absl::StatusOr<std::vector<FilterTerm>> ParseFilter(absl::string_view filter) {
  std::vector<FilterTerm> terms;
  size_t i = 0;
  const size_t n = filter.size();
  auto skip_space = [&] {
    while (i < n && filter[i] == ' ') ++i;
  };
  skip_space();
  if (i == n) return terms;
  while (true) {
    skip_space();
    FilterTerm term;
    term.position = static_cast<int>(i);
    const size_t start = i;
    while (i < n && IsFieldChar(filter[i])) ++i;
    if (i == start) return Invalid(static_cast<int>(i), "expected a field name");
    term.field = std::string(filter.substr(start, i - start));
    skip_space();
    if (i < n && (filter[i] == '!' || filter[i] == '<' || filter[i] == '>') && i + 1 < n &&
        filter[i + 1] == '=') {
      term.op = std::string(filter.substr(i, 2));
      i += 2;
    } else if (i < n && (filter[i] == '=' || filter[i] == '<' || filter[i] == '>')) {
      term.op = std::string(1, filter[i]);
      ++i;
    } else {
      return Invalid(static_cast<int>(i), "expected an operator (= != < <= > >=)");
    }
    skip_space();
    if (i < n && filter[i] == '"') {
      term.quoted = true;
      ++i;
      bool closed = false;
      while (i < n) {
        if (filter[i] == '\\' && i + 1 < n) {
          term.value.push_back(filter[i + 1]);
          i += 2;
        } else if (filter[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          term.value.push_back(filter[i++]);
        }
      }
      if (!closed) return Invalid(term.position, "unterminated string");
    } else {
      const size_t vstart = i;
      while (i < n && (IsFieldChar(filter[i]) || filter[i] == '-')) ++i;
      if (i == vstart) return Invalid(static_cast<int>(i), "expected a value");
      term.value = std::string(filter.substr(vstart, i - vstart));
    }
    terms.push_back(std::move(term));
    skip_space();
    if (i == n) break;
    if (filter.substr(i, 3) == "AND" && (i + 3 == n || filter[i + 3] == ' ')) {
      i += 3;
      continue;
    }
    return Invalid(static_cast<int>(i), "expected AND");
  }
  return terms;
}

absl::Status CheckTermsOnce(const std::vector<FilterTerm>& terms,
                            const std::set<std::string>& range_fields) {
  struct Bounds {
    bool lower = false;
    bool upper = false;
  };
  std::map<std::string, Bounds> ranges;
  std::set<std::string> seen;
  for (const FilterTerm& t : terms) {
    const bool lower = t.op == ">" || t.op == ">=" || t.op == "=";
    const bool upper = t.op == "<" || t.op == "<=" || t.op == "=";
    if (range_fields.count(t.field) == 0 || (!lower && !upper)) {
      if (!seen.insert(t.field).second) return FilterError(t, "may appear only once");
      continue;
    }
    Bounds& b = ranges[t.field];
    if ((lower && b.lower) || (upper && b.upper)) {
      return FilterError(t, "gives a bound that an earlier term already gives");
    }
    b.lower = b.lower || lower;
    b.upper = b.upper || upper;
  }
  return absl::OkStatus();
}

}  // namespace kelola::filter
