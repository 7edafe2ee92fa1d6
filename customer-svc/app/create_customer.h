#pragma once

// CreateCustomer (C1): a new customer, in one write. The input is validated against the
// tenant's settings (phone region, time zone), the category checked, the id taken (a new
// UUIDv7, or the client's own, which must never have been used, even by a deleted
// customer), then InsertNewCustomer: plan limit, duplicates, consent, CustomerCreated.

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::app {

struct NewCustomerCommand {
  std::string customer_id;  // the client's id, canonical; empty: the directory picks one
  v1::Customer customer;    // as the client sent it, validated here
  bool allow_duplicate = false;
};

// The tenant settings each tenant's writes last read, so that a write can validate its
// input before its transaction: a group-commit leader runs the transactions of many writes
// one after another on one thread, and validation (phone parsing above all) done in each
// handler's own thread beforehand runs beside it. The write re-reads the settings in its
// transaction and validates again only when their version changed. Thread-safe.
class TenantSettingsMemo {
 public:
  std::optional<store::StoredSettings> Get(absl::string_view tenant) const;
  void Put(absl::string_view tenant, const store::StoredSettings& settings);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, store::StoredSettings> by_tenant_ ABSL_GUARDED_BY(mu_);
};

class CreateCustomer {
 public:
  CreateCustomer(store::DirectoryStore& store, const Clock& clock, ids::IdGenerator& ids,
                 const phone::PhoneNormalizer& phones)
      : store_(store), clock_(clock), ids_(ids), phones_(phones) {}

  // `options`: who, and the request's idempotency key; a client's own id is a second key,
  // so that a retry under a new request_id finds the customer it made.
  absl::Status Run(const std::string& tenant, store::WriteOptions options,
                   const NewCustomerCommand& cmd, v1::CreateCustomerResponse& response);

 private:
  store::DirectoryStore& store_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
  const phone::PhoneNormalizer& phones_;
  TenantSettingsMemo settings_memo_;
};

}  // namespace kelola::customer::app
