#include "customer-svc/store/customer_query.h"

#include <vector>

#include "customer-svc/store/customer_stats_projection.h"
#include "customer-svc/store/search_tables.h"

namespace kelola::customer::store {

std::vector<db::Migration> CustomerQueryMigrations() {
  return {stats_projection::StatsProjectionMigration(), search_tables::SearchTablesMigration(),
          stats_projection::BuyersPerTenantMigration()};
}

CustomerQuery::CustomerQuery(const Clock& clock, CustomerQueryOptions options,
                             SearchIndexCache* index)
    : clock_(clock), options_(options), index_(index) {}

}  // namespace kelola::customer::store
