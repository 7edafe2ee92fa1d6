#pragma once

// The query side (customer_query.h) within a directory transaction: what the use cases in
// app/ read lists, searches, duplicate pairs and ledger stats through, in the same unit of
// work as the settings and customers they read with them. A repository over DirectoryTx, as
// CategoryRecords (category_records.h) is for categories.

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"

namespace kelola::customer::store {

class DirectoryQueries {
 public:
  DirectoryQueries(const CustomerQuery& query, DirectoryTx& tx) : query_(query), tx_(tx) {}

  // CustomerQuery::List, Search and FindDuplicates for the transaction's tenant.
  absl::StatusOr<ListPage> List(const ListSpec& spec) const;
  absl::StatusOr<SearchPage> Search(const SearchOptions& options) const;
  absl::StatusOr<DuplicatePage> FindDuplicates(const DuplicateOptions& options) const;

 private:
  const CustomerQuery& query_;
  DirectoryTx& tx_;
};

// The projected ledger stats of the tenant's customers `ids` (GetStatsOf); customers the
// ledger has not reported on are absent.
absl::StatusOr<absl::flat_hash_map<std::string, CustomerStatsRecord>> StatsOf(
    DirectoryTx& tx, const std::vector<std::string>& ids);

}  // namespace kelola::customer::store
