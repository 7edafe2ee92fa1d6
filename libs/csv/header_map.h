#pragma once

// Maps the header line of an imported CSV file to the columns a caller understands (C14).
//
// Header names match case-, accent- and space-insensitively: both sides are folded with
// kelola::text::FoldForMatch() (Unicode case folding, Latin accents removed, Thai marks kept)
// and then every space, '_', '-' and '.' is removed, so "Nama Pelanggan", "nama_pelanggan",
// "NAMA-PELANGGAN" and " namapelanggan " are the same name, as are "เบอร์ โทร" and "เบอร์โทร".
// A caller lists the spellings it accepts per column, e.g. for the key "name":
// {"Name", "Nama", "Nama Pelanggan", "ชื่อ", "ชื่อลูกค้า"}.
//
// Problems are reported all at once in one INVALID_ARGUMENT CSV_HEADER_INVALID error with a
// field violation per problem ("header" for a missing column, "header[i]" (0-based) for an
// unknown or duplicated one) and the metadata "missing", "unknown", "duplicate" (comma-separated
// lists) and "line".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/csv/reader.h"

namespace kelola::csv {

inline constexpr char kReasonCsvHeaderInvalid[] = "CSV_HEADER_INVALID";
// The column specs themselves are inconsistent (a programming error).
inline constexpr char kReasonCsvColumnSpecInvalid[] = "CSV_COLUMN_SPEC_INVALID";

struct ColumnSpec {
  // The caller's name for the column, e.g. "phone". Must be unique among the specs.
  std::string key;
  // Header spellings accepted for it; when empty, `key` itself is the only one.
  std::vector<std::string> names;
  // Missing from the header -> error.
  bool required = false;
  // Several header columns may map to it (e.g. "Phone", "Phone 2" as extra phones); without
  // it, a second matching column is an error.
  bool multiple = false;
};

struct HeaderMapOptions {
  // A header name that matches no spec is an error; otherwise it is ignored and listed in
  // unknown_columns(). Blank header cells are always ignored.
  bool reject_unknown_columns = false;
};

// The folded form used for matching (see the top of this file).
std::string NormalizeHeaderName(absl::string_view name);

class HeaderMap {
 public:
  // `header` is the first record (Record::fields), `header_line` its line for error messages.
  static absl::StatusOr<HeaderMap> Create(absl::Span<const std::string> header,
                                          absl::Span<const ColumnSpec> columns,
                                          const HeaderMapOptions& options = {},
                                          int64_t header_line = 1);

  // The (first) column index of `key`; nullopt when the file has no such column.
  std::optional<size_t> IndexOf(absl::string_view key) const;
  // Every column index of `key`, in file order (for `multiple` specs).
  absl::Span<const size_t> IndexesOf(absl::string_view key) const;
  bool Has(absl::string_view key) const { return !IndexesOf(key).empty(); }

  // The value of `key` in `record`; empty when the column is absent or the record is shorter
  // than the header (spreadsheets drop trailing empty cells).
  absl::string_view Get(const Record& record, absl::string_view key) const;

  // Header names that matched no spec, as written in the file.
  const std::vector<std::string>& unknown_columns() const { return unknown_columns_; }
  // Number of cells in the header line.
  size_t header_size() const { return header_size_; }

 private:
  HeaderMap() = default;

  absl::flat_hash_map<std::string, std::vector<size_t>> indexes_;
  std::vector<std::string> unknown_columns_;
  size_t header_size_ = 0;
};

}  // namespace kelola::csv
