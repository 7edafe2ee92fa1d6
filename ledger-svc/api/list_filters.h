#pragma once

// The `filter` of each List RPC of LedgerService (the contract's AIP-160 subset,
// libs/filter) as the conditions of the store's query (store/list_queries.h): each RPC's
// fields, operators and values, in the order the filter gives them. A field may appear
// once; a range field (sale_date, sale_time, received_date, received_time, balance,
// days_overdue) twice, for both bounds. Anything else is INVALID_ARGUMENT INVALID_FILTER
// (field `filter`, metadata position and detail).

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ledger-svc/store/list_queries.h"

namespace kelola::ledger::api {

// Dates (sale_date "YYYY-MM-DD") are days of the tenant's calendar, `tz`; times
// (sale_time) RFC 3339. walk_in only when no customer_id is set in `query` beforehand.
absl::Status ApplyFilter(absl::string_view filter, absl::TimeZone tz, SaleListQuery& query);
absl::Status ApplyFilter(absl::string_view filter, absl::TimeZone tz, PaymentListQuery& query);
absl::Status ApplyFilter(absl::string_view filter, ReceivableListQuery& query);
absl::Status ApplyFilter(absl::string_view filter, CreditLimitListQuery& query);

}  // namespace kelola::ledger::api
