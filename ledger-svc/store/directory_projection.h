#pragma once

// What ledger-svc keeps of customer-svc's directory (table directory_customers): each
// customer's state, category and merge survivor, fed by customer-svc's event stream
// (consumer "ledger-svc.directory") and by answers to CheckCustomerForSale for customers the
// stream has not brought yet. Rows are version-guarded (the customer record's version, the
// event's aggregate_version): a row is replaced only by a newer one, so the stream and the
// answers may arrive in any order. See docs/decisions/ledger-customer-projection.md.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

class DirectoryProjection {
 public:
  explicit DirectoryProjection(db::Database& db) : db_(db) {}

  // The customer's row (customer_id, version, state, category_id, merged_into_customer_id
  // set), or nullopt when the projection has none.
  absl::StatusOr<std::optional<customer_stream::CustomerRow>> Find(const std::string& tenant_id,
                                                                   const std::string& customer_id);
  // Stores `row` unless the projection holds the same or a newer version.
  absl::Status Remember(const std::string& tenant_id, const customer_stream::CustomerRow& row);

 private:
  db::Database& db_;
};

}  // namespace kelola::ledger
