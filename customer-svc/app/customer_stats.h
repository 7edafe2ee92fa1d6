#pragma once

// Customer.stats as the API serves it (C2, C12, C13): the projection of the ledger's
// per-customer statistics that customer-svc keeps (store/ledger_stats_feed.h), amounts in the
// tenant's currency. Every read of a customer carries them; a customer the ledger has not
// reported on yet has zeros.

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer.pb.h"

namespace kelola::customer::app {

// Sets `out->stats` from the projection's record.
void SetStats(const store::CustomerStatsRecord& stats, absl::string_view currency,
              v1::Customer* out);

// Reads the projected stats of `customers` (as read from the directory in `tx`) and sets them.
absl::Status AttachStats(store::DirectoryTx& tx, absl::string_view currency,
                         const std::vector<v1::Customer*>& customers);

}  // namespace kelola::customer::app
