#pragma once

// The columns of customer CSV files (C14 import, C15 export): their header text per
// language, the other spellings an import recognizes, and which direction each column
// supports. One table, so that a file written by ExportCustomers imports again as it is.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::app {

struct ColumnInfo {
  v1::CustomerColumn column;
  // Header written by exports, per language.
  const char* id;
  const char* en;
  const char* th;
  // Further header spellings an import maps automatically.
  std::vector<const char*> aliases;
  bool importable;
};

// Every column but UNSPECIFIED and IGNORE, in enum order.
const std::vector<ColumnInfo>& CustomerColumns();
// The entry of `column`, or nullptr.
const ColumnInfo* FindColumn(v1::CustomerColumn column);
// The column whose header text or alias matches `header` (csv::NormalizeHeaderName: case,
// accents, spaces, '_', '-' and '.' do not matter), or UNSPECIFIED.
v1::CustomerColumn ColumnForHeader(absl::string_view header);
// The header text of `column` in `language` ("id", "en", "th"; anything else: "en").
std::string ColumnHeader(v1::CustomerColumn column, absl::string_view language);

// "Ya"/"Yes"/"ใช่" and "Tidak"/"No"/"ไม่": marketing consent in exports.
std::string YesNo(bool yes, absl::string_view language);

}  // namespace kelola::customer::app
