#include "customer-svc/store/directory_queries.h"

namespace kelola::customer::store {

absl::StatusOr<ListPage> DirectoryQueries::List(const ListSpec& spec) const {
  return query_.List(tx_.transaction(), tx_.tenant_id(), spec);
}

absl::StatusOr<SearchPage> DirectoryQueries::Search(const SearchOptions& options) const {
  return query_.Search(tx_.transaction(), tx_.tenant_id(), options);
}

absl::StatusOr<DuplicatePage> DirectoryQueries::FindDuplicates(
    const DuplicateOptions& options) const {
  return query_.FindDuplicates(tx_.transaction(), tx_.tenant_id(), options);
}

absl::StatusOr<absl::flat_hash_map<std::string, CustomerStatsRecord>> StatsOf(
    DirectoryTx& tx, const std::vector<std::string>& ids) {
  return GetStatsOf(tx.transaction(), tx.tenant_id(), ids);
}

}  // namespace kelola::customer::store
