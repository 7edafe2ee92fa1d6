#pragma once

// What ledger-svc keeps of customer-svc's directory (table directory_customers): each
// customer's state, category and merge survivor, fed by customer-svc's event stream
// (consumer "ledger-svc.directory") and by answers to CheckCustomerForSale for customers the
// stream has not brought yet. A sale reads it inside its own transaction
// (LockCustomerForSale), so whether a customer may buy costs no call to customer-svc. Rows are
// version-guarded (the customer record's version, the event's aggregate_version): a row is replaced
// only by a newer one, so the stream and the answers may arrive in any order. See
// docs/decisions/ledger-customer-projection.md.

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/customer_stream/customer_reducer.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::ledger {

inline constexpr char kDirectoryConsumer[] = "ledger-svc.directory";
inline constexpr char kDirectoryProducer[] = "customer-svc";

db::Migration DirectoryProjectionMigration(int version);

// Applies a batch of customer-svc events inside `tx` (events of other aggregates are
// ignored); each customer's row is read and written once per batch.
absl::Status ApplyDirectoryEvents(db::Transaction& tx, absl::Span<const type::v1::Event> events);

// SQL: the projection's columns of one customer (version, state, merged_into, category_id)
// as four scalar subqueries, for a statement that reads them with other things
// (LockCustomerForSale); `tenant` and `customer` are SQL expressions.
std::string DirectoryColumnsSql(absl::string_view tenant, absl::string_view customer);

// How many columns DirectoryColumnsSql gives.
inline constexpr size_t kDirectoryColumns = 4;

// The customer's row from the columns DirectoryColumnsSql gave, starting at `first`;
// nullopt when the projection holds none.
std::optional<customer_stream::CustomerRow> DirectoryRowOf(const db::Row& row, size_t first,
                                                           const std::string& customer_id);

// Stores `row` unless the projection holds the same or a newer version (customer-svc's
// answer about a customer the stream has not brought yet).
absl::Status RememberDirectoryRow(db::Transaction& tx, const std::string& tenant_id,
                                  const customer_stream::CustomerRow& row);

}  // namespace kelola::ledger
