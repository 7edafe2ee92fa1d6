#pragma once

// The customer dimension of the reports (report_customers): each customer's name, primary
// phone, category, marketing consent, creation time and state, projected from customer-svc's
// event stream by customer_stream::ReduceCustomer (version-guarded, so replays are harmless).
// Fed by its own consumer (cursor "report-svc.customers" of producer "customer-svc"): the customer
// and ledger streams are not ordered against each other, and no report needs them to be
// (a sale of a customer not known yet counts; its name appears once the customer arrives).

#include <string>

#include "absl/status/status.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::report::store {

inline constexpr char kCustomerConsumer[] = "report-svc.customers";
inline constexpr char kCustomerProducer[] = "customer-svc";

db::Migration CustomerDimensionMigration(int version);

// Applies one customer-svc event inside `tx` (events of other aggregates are ignored).
absl::Status ApplyCustomerEvent(db::Transaction& tx, const type::v1::Event& event);

}  // namespace kelola::report::store
