#include "ledger-svc/domain/listing.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "libs/paging/page_token.h"

namespace kelola::ledger {
namespace {

absl::Status Invalid(int position, absl::string_view detail) {
  return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_FILTER",
                       absl::StrCat("invalid filter at ", position, ": ", detail),
                       {{"position", absl::StrCat(position)}, {"detail", std::string(detail)}},
                       {{"filter", std::string(detail)}});
}

// The ledger's bindings name the tenant and the RPC themselves.
constexpr char kPageTokenKind[] = "ledger";

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

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "page_size must not be negative", {},
                         {{"page_size", "must not be negative"}});
  }
  if (requested == 0) return 50;
  return requested > 200 ? 200 : requested;
}

std::string EncodePageToken(absl::string_view binding, const std::vector<std::string>& keys) {
  return paging::EncodeToken(kPageTokenKind, "", binding, keys);
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view token,
                                                         absl::string_view binding) {
  return paging::DecodeToken(token, kPageTokenKind, "", binding);
}

}  // namespace kelola::ledger
