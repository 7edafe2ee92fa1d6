#pragma once

// The directory's queries (C7 customer side, C11-C13) as the API serves them: lists,
// searches and duplicate pairs of a tenant, each read with the tenant's settings in one read
// transaction, the customers carrying their ledger stats in the tenant's currency; and the
// pages an export reads one after another.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::app {

class QueryCustomers {
 public:
  QueryCustomers(store::DirectoryStore& store, const store::CustomerQuery& query)
      : store_(store), query_(query) {}

  // A page of the list `spec` describes. Errors as store::CustomerQuery::List.
  absl::Status List(absl::string_view tenant, const store::ListSpec& spec,
                    v1::ListCustomersResponse& response) const;
  // A page of search results; `options.phone_region` is the tenant's default phone region,
  // whatever the caller set. Waits for the tenant's search index first. Errors as
  // store::CustomerQuery::Search.
  absl::Status Search(absl::string_view tenant, store::SearchOptions options,
                      v1::SearchCustomersResponse& response) const;
  // A page of likely duplicate pairs. Errors as store::CustomerQuery::FindDuplicates.
  absl::Status FindDuplicates(absl::string_view tenant, const store::DuplicateOptions& options,
                              v1::FindDuplicatesResponse& response) const;
  // A page of the list `spec` describes, read as a bulk read (an export reads the whole list
  // a page at a time, each page in a short transaction of its own). The items carry their
  // stored customers and stats as read.
  absl::StatusOr<store::ListPage> ExportPage(absl::string_view tenant,
                                             const store::ListSpec& spec) const;

 private:
  store::DirectoryStore& store_;
  const store::CustomerQuery& query_;
};

}  // namespace kelola::customer::app
