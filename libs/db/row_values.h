#pragma once

// Reshaping the values of one row between statements.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "libs/db/database.h"

namespace kelola::db {

// The values of one row's INSERT whose first `key_columns` values are its key, reordered for
// the UPDATE of the same row: the other columns (SET, in INSERT order), then the key (WHERE).
inline std::vector<Value> KeyLast(std::vector<Value> values, size_t key_columns) {
  std::rotate(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(key_columns),
              values.end());
  return values;
}

}  // namespace kelola::db
