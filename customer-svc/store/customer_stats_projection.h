#pragma once

// Internal to customer-svc's query side: the migrations of the per-customer ledger stats
// projection (customer_stats, customer_stats_summary). Its reads and writes (UpsertStats,
// GetStats, GetStatsOf) are declared in customer_query.h.

#include "libs/db/migrations.h"

namespace kelola::customer::store::stats_projection {

// Migration 20: customer_stats with its sort indexes, and the list sort indexes on customers.
db::Migration StatsProjectionMigration();

// Migration 22: customer_stats_summary, the number of customers with purchases per tenant.
db::Migration BuyersPerTenantMigration();

}  // namespace kelola::customer::store::stats_projection
