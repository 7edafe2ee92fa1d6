#pragma once

// The writes of one customer inside a DirectoryTx, shared by CreateCustomer / UpdateCustomer
// and the CSV import (C14), so that an imported row is checked and recorded exactly like a
// customer created or updated through the API: plan limit (C16), duplicates (C6), events.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/customer/v1/tenant.pb.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::customer::app {

// Client-supplied UUIDs are stored in lower case; other ids are looked up as given.
std::string CanonicalId(absl::string_view id);

// The customer, or NOT_FOUND CUSTOMER_NOT_FOUND (metadata customer_id).
absl::StatusOr<store::StoredCustomer> MustFind(store::DirectoryTx& tx, absl::string_view id);

// OK unless the customer's state forbids changing its data: MERGED (CUSTOMER_MERGED),
// MERGING (CUSTOMER_MERGE_IN_PROGRESS), ERASED (CUSTOMER_ERASED, unless `erased_ok`).
absl::Status CheckChangeable(const v1::Customer& c, bool erased_ok = false);

// The idempotency fingerprint of a request: its content without request_id. Clears
// request_id in `copy`.
std::string Fingerprint(google::protobuf::Message& copy);

// WriteOptions of a handler's write: who, and the idempotency key in `scope`.
store::WriteOptions Options(const server::RequestContext& rc, absl::string_view scope,
                            absl::string_view request_id, const std::string& hash);

// The tenant's time zone; INTERNAL when it cannot be loaded.
absl::StatusOr<absl::TimeZone> TenantZone(const v1::TenantSettings& settings);

// Checks category_id against the tenant's categories (seeding the defaults first),
// recording a violation under "customer.category_id".
absl::Status CheckCategory(store::DirectoryTx& tx, const std::string& category_id,
                           errors::FieldErrors& errors);

// The record the store writes for `c`, collated in the tenant's language.
store::CustomerRecord RecordFor(const v1::Customer& c, int64_t version, bool duplicate_allowed,
                                const v1::TenantSettings& settings);

// Stamps a new version on `c` (etag, update_time).
void Stamp(v1::Customer& c, int64_t version, absl::Time now);

// Makes `c` a new customer as stored: ACTIVE, created `now`, version 1.
void StampNewCustomer(v1::Customer& c, absl::Time now);

// Stamps `c` with `version` and writes it (RecordFor) over the stored customer.
absl::Status StoreVersion(store::DirectoryTx& tx, const v1::TenantSettings& settings,
                          v1::Customer& c, int64_t version, bool duplicate_allowed);

// Whether the phones (E.164) or the e-mail differ.
bool ContactChanged(const v1::Customer& a, const v1::Customer& b);

// What the caller of InsertNewCustomer already knows, so that it is not checked twice.
struct KnownAboutNewCustomer {
  // The id was generated here (UUIDv7): no customer and no deleted customer can hold it.
  bool id_is_new = false;
  // CheckDuplicates ran for this customer in this transaction and found none.
  bool duplicates_checked = false;
};

// Inserts `customer` (validated by domain::NormalizeCustomer) as a new ACTIVE customer with
// id `id`: ALREADY_EXISTS CUSTOMER_ID_EXISTS when the id is taken (or was deleted),
// RESOURCE_EXHAUSTED CUSTOMER_LIMIT_REACHED at the plan limit, ALREADY_EXISTS
// CUSTOMER_DUPLICATE unless `allow_duplicate`. Records the consent and emits CustomerCreated.
// `limited_count`, when given, is the number of customers counted toward the limit (a caller
// inserting many rows in one transaction counts once); otherwise it is counted here. Returns
// the stored customer.
absl::StatusOr<v1::Customer> InsertNewCustomer(store::DirectoryTx& tx,
                                               const v1::TenantSettings& settings,
                                               v1::Customer customer, const std::string& id,
                                               bool allow_duplicate,
                                               std::optional<int64_t> limited_count,
                                               KnownAboutNewCustomer known = {});

// Saves `next` (validated) over `current`: output-only fields are taken from `current`;
// nothing is written when no data field changed (then `current` is returned). Checks
// duplicates when the contact changed, emits CustomerUpdated (and CustomerCategoryChanged).
absl::StatusOr<v1::Customer> SaveCustomerChanges(store::DirectoryTx& tx,
                                                 const v1::TenantSettings& settings,
                                                 const store::StoredCustomer& current,
                                                 v1::Customer next, bool allow_duplicate);

}  // namespace kelola::customer::app
