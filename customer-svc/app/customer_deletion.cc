#include "customer-svc/app/customer_deletion.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/store/customer_operations.h"
#include "customer-svc/store/remembered_keys.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/errors/errors.h"

namespace kelola::customer::app {
namespace {

constexpr char kScope[] = "DeleteCustomer";

// What may not be deleted, checked before sealing and again in the deleting transaction.
absl::Status CheckDeletable(store::DirectoryTx& tx, const store::StoredCustomer& current,
                            const std::string& etag) {
  const v1::Customer& c = current.customer;
  if (c.state() == v1::CUSTOMER_STATE_MERGED || c.state() == v1::CUSTOMER_STATE_MERGING) {
    return CheckChangeable(c);
  }
  auto receiving = store::OperationRecords(tx).HasOpenMergeInto(c.customer_id());
  if (!receiving.ok()) return receiving.status();
  if (*receiving) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGE_IN_PROGRESS",
                         "another customer is being merged into this one",
                         {{"customer_id", c.customer_id()}});
  }
  return domain::CheckEtag(etag, current.version);
}

// The ledger's refusal to seal, as customer-svc's answer.
absl::Status SealRefusal(const absl::Status& refusal, const std::string& customer_id) {
  const std::string reason = errors::Reason(refusal);
  auto metadata = errors::GetMetadata(refusal);
  metadata["customer_id"] = customer_id;
  if (reason == "CUSTOMER_HAS_HISTORY") {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_HAS_HISTORY",
                         "has transactions: archive instead", metadata);
  }
  if (reason == "CUSTOMER_MERGED") {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGED",
                         "the customer was merged into another", metadata);
  }
  if (reason == "CUSTOMER_SEALED" || reason == "SEAL_MISMATCH") {
    return errors::Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                         "another delete of this customer is in progress; retry", metadata);
  }
  return errors::Error(absl::StatusCode::kInternal, "INTERNAL",
                       absl::StrCat("ledger-svc refused the seal: ", refusal.message()), metadata);
}

absl::Status LedgerUnavailable(const absl::Status& cause) {
  return errors::Error(absl::StatusCode::kUnavailable, "LEDGER_UNAVAILABLE",
                       absl::StrCat("ledger-svc did not confirm the customer has no history (",
                                    cause.message(), "); nothing changed, retry"));
}

}  // namespace

absl::Status CustomerDeletion::Delete(const server::RequestContext& rc,
                                      const v1::DeleteCustomerRequest& request) {
  errors::FieldErrors fields;
  if (request.customer_id().empty()) fields.Add("customer_id", "required");
  if (!request.request_id().empty()) {
    if (auto s = domain::ValidateRequestId(request.request_id()); !s.ok()) {
      fields.Add("request_id", std::string(s.message()));
    }
  }
  if (!fields.empty()) return fields.ToStatus();
  const std::string id = CanonicalId(request.customer_id());
  const std::string& tenant = rc.tenant_id;
  v1::DeleteCustomerRequest copy = request;
  const store::WriteOptions options = Options(rc, kScope, request.request_id(), Fingerprint(copy));

  // 1. Check and record the pending delete.
  const std::string seal_id = ids_.NewId();
  bool replayed = false;
  LedgerTenant ledger_tenant;
  store::WriteOptions pending_options = options;
  pending_options.idempotency_key.clear();
  absl::Status status = store_.Write(
      tenant, pending_options,
      [&](store::DirectoryTx& tx) -> absl::Status {
        replayed = false;
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        ledger_tenant = LedgerTenantOf(tenant, settings->settings);
        if (!request.request_id().empty()) {
          auto subject = store::RememberedKeys(tx).SubjectOf(kScope, request.request_id());
          if (!subject.ok()) return subject.status();
          if (subject->has_value()) {
            if (**subject != id) {
              return errors::Error(absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                                   "this request_id was used for a different request",
                                   {{"field", "request_id"}, {"value", request.request_id()}});
            }
            replayed = true;  // deleted by this request before
            return absl::OkStatus();
          }
        }
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckDeletable(tx, *current, request.etag()); !s.ok()) return s;
        auto pending = store::OperationRecords(tx).PendingDeleteSeal(id);
        if (!pending.ok()) return pending.status();
        if (pending->has_value()) {
          return errors::Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                               "another delete of this customer is in progress; retry",
                               {{"customer_id", id}});
        }
        return store::OperationRecords(tx).PutPendingDelete(id, seal_id, tx.now());
      },
      nullptr);
  if (!status.ok() || replayed) return status;

  // 2. Seal in the ledger.
  absl::Status sealed = ledger_.Seal(ledger_tenant, seal_id, id);
  if (!sealed.ok()) {
    // A refusal changed nothing in the ledger; no answer may have sealed: undo either way.
    // If the undo fails too, ResumeStale undoes it later.
    (void)Undo(ledger_tenant, id, seal_id);
    return IsTransient(sealed) ? LedgerUnavailable(sealed) : SealRefusal(sealed, id);
  }

  // 3. Delete here.
  v1::DeleteCustomerResponse response;
  status = store_.Write(
      tenant, options,
      [&](store::DirectoryTx& tx) -> absl::Status {
        tx.SetIdempotencySubject(id);
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckDeletable(tx, *current, request.etag()); !s.ok()) return s;
        // A delete that took longer than --abandoned_delete_after was undone meanwhile.
        auto pending = store::OperationRecords(tx).RemovePendingDelete(id, seal_id);
        if (!pending.ok()) return pending.status();
        if (!*pending) {
          return errors::Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                               "the delete took too long and was undone; retry",
                               {{"customer_id", id}});
        }
        if (auto s = tx.DeleteCustomer(id); !s.ok()) return s;
        v1::CustomerDeleted event;
        event.set_customer_id(id);
        return tx.Emit("customer", id, current->version + 1, event);
      },
      &response);
  if (!status.ok()) (void)Undo(ledger_tenant, id, seal_id);
  return status;
}

absl::Status CustomerDeletion::Undo(const LedgerTenant& tenant, const std::string& customer_id,
                                    const std::string& seal_id) {
  auto unsealed = ledger_.Unseal(tenant, seal_id, customer_id);
  // SEAL_MISMATCH: the customer is sealed by another delete, not by this one.
  if (!unsealed.ok() && errors::Reason(unsealed.status()) != "SEAL_MISMATCH") {
    return unsealed.status();
  }
  return store_.Write(
      tenant.tenant_id, store::WriteOptions{},
      [&](store::DirectoryTx& tx) -> absl::Status {
        return store::OperationRecords(tx).RemovePendingDelete(customer_id, seal_id).status();
      },
      nullptr);
}

absl::Status CustomerDeletion::ResumeStale() {
  std::vector<store::OpenOperation> stale;
  absl::Status status = store_.Read("", [&](store::DirectoryTx& tx) -> absl::Status {
    auto found =
        store::OperationRecords(tx).StalePendingDeletes(clock_.Now() - options_.stale_after, 100);
    if (!found.ok()) return found.status();
    stale = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  absl::Status first;
  for (const auto& op : stale) {
    auto tenant = LoadLedgerTenant(store_, op.tenant_id);
    absl::Status undone = tenant.ok() ? Undo(*tenant, op.customer_id, op.id) : tenant.status();
    if (first.ok()) first = undone;
  }
  return first;
}

}  // namespace kelola::customer::app
