#include "libs/csv/header_map.h"

#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/errors/errors.h"
#include "libs/text/normalize.h"

namespace kelola::csv {
namespace {

using ::kelola::errors::Error;
using ::kelola::errors::FieldViolation;

}  // namespace

std::string NormalizeHeaderName(absl::string_view name) {
  std::string folded = text::FoldForMatch(std::string_view(name.data(), name.size()));
  std::string out;
  out.reserve(folded.size());
  for (char c : folded) {
    if (c == ' ' || c == '_' || c == '-' || c == '.') continue;
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<HeaderMap> HeaderMap::Create(absl::Span<const std::string> header,
                                            absl::Span<const ColumnSpec> columns,
                                            const HeaderMapOptions& options, int64_t header_line) {
  // Folded spelling -> index of the spec.
  absl::flat_hash_map<std::string, size_t> spellings;
  absl::flat_hash_set<std::string> keys;
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnSpec& spec = columns[i];
    if (spec.key.empty() || !keys.insert(spec.key).second) {
      return Error(absl::StatusCode::kInvalidArgument, kReasonCsvColumnSpecInvalid,
                   absl::StrCat("column key \"", spec.key, "\" is empty or not unique"));
    }
    std::vector<std::string> names = spec.names;
    if (names.empty()) names.push_back(spec.key);
    for (const std::string& name : names) {
      std::string folded = NormalizeHeaderName(name);
      auto [it, inserted] = spellings.emplace(folded, i);
      if (folded.empty() || (!inserted && it->second != i)) {
        return Error(absl::StatusCode::kInvalidArgument, kReasonCsvColumnSpecInvalid,
                     absl::StrCat("header name \"", name, "\" of column \"", spec.key,
                                  "\" is empty or also belongs to column \"",
                                  columns[it->second].key, "\""));
      }
    }
  }

  HeaderMap map;
  map.header_size_ = header.size();
  std::vector<FieldViolation> violations;
  std::vector<std::string> unknown;
  std::vector<std::string> duplicate;
  for (size_t col = 0; col < header.size(); ++col) {
    const std::string folded = NormalizeHeaderName(header[col]);
    if (folded.empty()) continue;
    auto it = spellings.find(folded);
    if (it == spellings.end()) {
      map.unknown_columns_.push_back(header[col]);
      if (options.reject_unknown_columns) {
        unknown.push_back(header[col]);
        violations.push_back({absl::StrCat("header[", col, "]"),
                              absl::StrCat("unknown column \"", header[col], "\"")});
      }
      continue;
    }
    const ColumnSpec& spec = columns[it->second];
    std::vector<size_t>& indexes = map.indexes_[spec.key];
    if (!indexes.empty() && !spec.multiple) {
      duplicate.push_back(header[col]);
      violations.push_back(
          {absl::StrCat("header[", col, "]"),
           absl::StrCat("column \"", header[col], "\" repeats column ", indexes.front() + 1, " (\"",
                        header[indexes.front()], "\")")});
      continue;
    }
    indexes.push_back(col);
  }
  std::vector<std::string> missing;
  for (const ColumnSpec& spec : columns) {
    if (!spec.required || map.Has(spec.key)) continue;
    missing.push_back(spec.key);
    const std::vector<std::string>& names =
        spec.names.empty() ? std::vector<std::string>{spec.key} : spec.names;
    violations.push_back(
        {"header", absl::StrCat("missing required column \"", spec.key,
                                "\" (accepted names: ", absl::StrJoin(names, ", "), ")")});
  }
  if (violations.empty()) return map;

  std::string message = absl::StrCat("line ", header_line, ": the header is not usable:");
  for (const FieldViolation& v : violations) absl::StrAppend(&message, " ", v.description, ";");
  message.pop_back();
  errors::Metadata metadata = {{"line", absl::StrCat(header_line)}};
  if (!missing.empty()) metadata["missing"] = absl::StrJoin(missing, ",");
  if (!unknown.empty()) metadata["unknown"] = absl::StrJoin(unknown, ",");
  if (!duplicate.empty()) metadata["duplicate"] = absl::StrJoin(duplicate, ",");
  return Error(absl::StatusCode::kInvalidArgument, kReasonCsvHeaderInvalid, message, metadata,
               violations);
}

std::optional<size_t> HeaderMap::IndexOf(absl::string_view key) const {
  absl::Span<const size_t> indexes = IndexesOf(key);
  if (indexes.empty()) return std::nullopt;
  return indexes.front();
}

absl::Span<const size_t> HeaderMap::IndexesOf(absl::string_view key) const {
  auto it = indexes_.find(key);
  if (it == indexes_.end()) return {};
  return it->second;
}

absl::string_view HeaderMap::Get(const Record& record, absl::string_view key) const {
  std::optional<size_t> index = IndexOf(key);
  if (!index.has_value() || *index >= record.fields.size()) return {};
  return record.fields[*index];
}

}  // namespace kelola::csv
