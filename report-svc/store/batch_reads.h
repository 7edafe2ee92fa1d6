#pragma once

// Reading the rows a batch of events will touch in a few statements instead of one per
// event: the projections load what they need up front and then work in memory (one round
// trip per few hundred rows on PostgreSQL, few statements on SQLite).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/db/database.h"

namespace kelola::report::store {

// The rows of `columns` of `table` for `tenant_id` whose `key` column is one of `ids`
// (queried a few hundred ids at a time). Ids without a row are simply absent.
absl::StatusOr<std::vector<db::Row>> ReadByKeys(db::Transaction& tx, const std::string& table,
                                                const std::string& key, const std::string& columns,
                                                const std::string& tenant_id,
                                                const std::vector<std::string>& ids);

}  // namespace kelola::report::store
