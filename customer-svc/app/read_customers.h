#pragma once

// Reads of a tenant's customers by id and by date (C2, C17, C18): one customer or a batch
// with their ledger stats in the tenant's currency, everything kept about one customer (the
// data export of C17), whether a sale may name one, and the birthdays coming up in the
// tenant's time zone. Each runs in
// one read transaction.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_internal_service.pb.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::app {

// The window and page of ListUpcomingBirthdays, its numbers already checked (days 1-366,
// page_size 1-500).
struct BirthdayQuery {
  int days = 7;
  std::string filter;  // `category_id = "x"` and `consent = GRANTED|WITHDRAWN|UNSPECIFIED`
  int page_size = 50;
  std::string page_token;
};

class ReadCustomers {
 public:
  explicit ReadCustomers(store::DirectoryStore& store) : store_(store) {}

  // The customer (any state), with its stats. NOT_FOUND CUSTOMER_NOT_FOUND.
  absl::Status Get(absl::string_view tenant, absl::string_view customer_id,
                   v1::Customer& out) const;
  // The customers `ids` in their order, with their stats. An unknown id is NOT_FOUND
  // CUSTOMER_NOT_FOUND naming it as given, or with `allow_missing` listed in
  // missing_customer_ids.
  absl::Status BatchGet(absl::string_view tenant, const std::vector<std::string>& ids,
                        bool allow_missing, v1::BatchGetCustomersResponse& response) const;
  // Everything kept about the customer as one JSON document: the customer, its consent
  // history, the customers merged into it, the merges it took part in and its events.
  absl::Status ExportData(absl::string_view tenant, absl::string_view customer_id,
                          v1::ExportCustomerDataResponse& response) const;
  // Whether a sale may name the customer (ledger-svc asks): only an ACTIVE customer may
  // buy; a merged one names its survivor. NOT_FOUND CUSTOMER_NOT_FOUND.
  absl::Status CheckForSale(absl::string_view tenant, absl::string_view customer_id,
                            v1::CheckCustomerForSaleResponse& response) const;
  // Active customers whose birthday falls within the window, by date, then name. Errors:
  // INVALID_FILTER, PAGE_TOKEN_MISMATCH, PAGE_TOKEN_INVALID.
  absl::Status UpcomingBirthdays(absl::string_view tenant, const BirthdayQuery& query,
                                 v1::ListUpcomingBirthdaysResponse& response) const;

 private:
  store::DirectoryStore& store_;
};

}  // namespace kelola::customer::app
