#include "customer-svc/app/customer_merge_saga.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_merge.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/store/customer_operations.h"
#include "google/protobuf/util/message_differencer.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/errors/errors.h"

namespace kelola::customer::app {
namespace {

using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;
using v1::MergeOperation;

constexpr char kScope[] = "MergeCustomers";

absl::Status NotFoundCustomer(const std::string& id) {
  return NotFound("CUSTOMER_NOT_FOUND", "customer", "customer_id", id);
}

// Who writes a step the request did not run itself (the resumer): the requester.
store::WriteOptions StepOptions(const MergeOperation& op) {
  store::WriteOptions o;
  o.principal = op.principal();
  o.request_id = op.request_id();
  return o;
}

// Saves `c` as the customer's next version and emits CustomerUpdated.
absl::Status SaveVersion(DirectoryTx& tx, const v1::TenantSettings& settings,
                         const StoredCustomer& current, Customer c, bool duplicate_allowed) {
  const int64_t version = current.version + 1;
  if (auto s = StoreVersion(tx, settings, c, version, duplicate_allowed); !s.ok()) {
    return s;
  }
  v1::CustomerUpdated event;
  *event.mutable_customer() = c;
  return tx.Emit("customer", c.customer_id(), version, event);
}

}  // namespace

absl::StatusOr<MergeOperation> CustomerMergeSaga::Merge(const server::RequestContext& rc,
                                                        const v1::MergeCustomersRequest& request) {
  errors::FieldErrors fields;
  if (request.source_customer_id().empty()) fields.Add("source_customer_id", "required");
  if (request.target_customer_id().empty()) fields.Add("target_customer_id", "required");
  if (!request.request_id().empty()) {
    if (auto s = domain::ValidateRequestId(request.request_id()); !s.ok()) {
      fields.Add("request_id", std::string(s.message()));
    }
  }
  if (!fields.empty()) return fields.ToStatus();
  const std::string source = CanonicalId(request.source_customer_id());
  const std::string target = CanonicalId(request.target_customer_id());
  if (source == target) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "MERGE_SAME_CUSTOMER",
                         "a customer cannot be merged into itself", {{"customer_id", source}},
                         {{"target_customer_id", "must differ from source_customer_id"}});
  }
  const std::string& tenant = rc.tenant_id;
  v1::MergeCustomersRequest copy = request;
  v1::MergeCustomersResponse response;
  absl::Status status = store_.Write(
      tenant, Options(rc, kScope, request.request_id(), Fingerprint(copy)),
      [&](DirectoryTx& tx) -> absl::Status {
        auto src = tx.FindCustomer(source);
        if (!src.ok()) return src.status();
        if (!src->has_value()) return NotFoundCustomer(source);
        auto tgt = tx.FindCustomer(target);
        if (!tgt.ok()) return tgt.status();
        if (!tgt->has_value()) return NotFoundCustomer(target);
        const StoredCustomer& from = **src;
        const StoredCustomer& to = **tgt;
        if (auto s = CheckChangeable(from.customer); !s.ok()) return s;
        if (auto s = CheckChangeable(to.customer); !s.ok()) return s;
        if (to.customer.state() == v1::CUSTOMER_STATE_ARCHIVED) {
          return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ARCHIVED",
                               "the target is archived; restore it first",
                               {{"customer_id", target}});
        }
        // A customer that is itself receiving a merge is not merged away until that merge
        // has finished, so that no merge ends with its target gone.
        auto receiving = store::OperationRecords(tx).HasOpenMergeInto(source);
        if (!receiving.ok()) return receiving.status();
        if (*receiving) {
          return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGE_IN_PROGRESS",
                               "another customer is being merged into the source; retry later",
                               {{"customer_id", source}});
        }
        for (const std::string& id : {source, target}) {
          auto deleting = store::OperationRecords(tx).PendingDeleteSeal(id);
          if (!deleting.ok()) return deleting.status();
          if (deleting->has_value()) {
            return errors::Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                                 "the customer is being deleted", {{"customer_id", id}});
          }
        }
        if (auto s = domain::CheckEtag(request.source_etag(), from.version); !s.ok()) return s;
        if (auto s = domain::CheckEtag(request.target_etag(), to.version); !s.ok()) return s;

        store::MergeOperationRecord record;
        MergeOperation& op = record.operation;
        op.set_merge_operation_id(ids_.NewId());
        op.set_source_customer_id(source);
        op.set_target_customer_id(target);
        op.set_state(v1::MERGE_OPERATION_STATE_PENDING);
        *op.mutable_create_time() = ToProto(tx.now());
        *op.mutable_update_time() = op.create_time();
        op.set_principal(rc.principal);
        op.set_request_id(request.request_id());
        record.previous_source_state = from.customer.state();
        if (auto s = store::OperationRecords(tx).InsertMerge(record); !s.ok()) {
          return s;
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        Customer merging = from.customer;
        merging.set_state(v1::CUSTOMER_STATE_MERGING);
        merging.set_merged_into_customer_id(target);
        if (auto s = SaveVersion(tx, settings->settings, from, merging, from.duplicate_allowed);
            !s.ok()) {
          return s;
        }
        *response.mutable_merge_operation() = op;
        return absl::OkStatus();
      },
      &response);
  if (!status.ok()) return status;
  return Drive(tenant, response.merge_operation().merge_operation_id());
}

absl::StatusOr<MergeOperation> CustomerMergeSaga::Get(const server::RequestContext& rc,
                                                      const std::string& merge_operation_id) {
  if (merge_operation_id.empty()) return InvalidField("merge_operation_id", "required");
  return Load(rc.tenant_id, merge_operation_id);
}

absl::StatusOr<MergeOperation> CustomerMergeSaga::Load(const std::string& tenant,
                                                       const std::string& id) {
  MergeOperation out;
  absl::Status status = store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto found = store::OperationRecords(tx).FindMerge(id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return NotFound("MERGE_OPERATION_NOT_FOUND", "merge operation", "merge_operation_id", id);
    }
    out = (*found)->operation;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<MergeOperation> CustomerMergeSaga::Drive(const std::string& tenant,
                                                        const std::string& id) {
  auto ledger_tenant = LoadLedgerTenant(store_, tenant);
  if (!ledger_tenant.ok()) return ledger_tenant.status();
  // At most: the ledger step, then finalizing; a step another runner took is re-read.
  for (int step = 0; step < 4; ++step) {
    auto op = Load(tenant, id);
    if (!op.ok()) return op.status();
    if (op->state() == v1::MERGE_OPERATION_STATE_PENDING) {
      absl::Status moved =
          ledger_.Reassign(*ledger_tenant, id, op->source_customer_id(), op->target_customer_id());
      if (moved.ok()) {
        if (auto s = MarkLedgerMoved(tenant, *op); !s.ok()) return s;
      } else if (IsTransient(moved)) {
        return op;  // stays PENDING; the resumer tries again
      } else if (auto s = Fail(tenant, *op, moved); !s.ok()) {
        return s;
      }
    } else if (op->state() == v1::MERGE_OPERATION_STATE_LEDGER_MOVED) {
      if (auto s = Finalize(tenant, *op); !s.ok()) return s;
    } else {
      return op;
    }
  }
  return Load(tenant, id);
}

absl::Status CustomerMergeSaga::MarkLedgerMoved(const std::string& tenant,
                                                const MergeOperation& op) {
  return store_.Write(
      tenant, StepOptions(op),
      [&](DirectoryTx& tx) -> absl::Status {
        MergeOperation next = op;
        next.set_state(v1::MERGE_OPERATION_STATE_LEDGER_MOVED);
        *next.mutable_update_time() = ToProto(tx.now());
        return store::OperationRecords(tx)
            .AdvanceMerge(v1::MERGE_OPERATION_STATE_PENDING, next)
            .status();
      },
      nullptr);
}

absl::Status CustomerMergeSaga::Fail(const std::string& tenant, const MergeOperation& op,
                                     const absl::Status& refusal) {
  return store_.Write(
      tenant, StepOptions(op),
      [&](DirectoryTx& tx) -> absl::Status {
        MergeOperation next = op;
        next.set_state(v1::MERGE_OPERATION_STATE_FAILED);
        *next.mutable_update_time() = ToProto(tx.now());
        *next.mutable_complete_time() = next.update_time();
        const std::string reason = errors::Reason(refusal);
        next.set_failure_reason(reason.empty() ? "LEDGER_REFUSED" : reason);
        next.set_failure_message(std::string(refusal.message()));
        auto claimed =
            store::OperationRecords(tx).AdvanceMerge(v1::MERGE_OPERATION_STATE_PENDING, next);
        if (!claimed.ok() || !*claimed) return claimed.status();
        auto record = store::OperationRecords(tx).FindMerge(op.merge_operation_id());
        if (!record.ok()) return record.status();
        // The source returns to its previous state.
        auto src = MustFind(tx, op.source_customer_id());
        if (!src.ok()) return src.status();
        if (src->customer.state() != v1::CUSTOMER_STATE_MERGING) return absl::OkStatus();
        Customer c = src->customer;
        c.set_state((*record)->previous_source_state);
        c.clear_merged_into_customer_id();
        bool duplicate_allowed = src->duplicate_allowed;
        // Someone may have taken its phones or e-mail meanwhile: it comes back as an
        // allowed duplicate rather than not at all.
        if (c.state() == v1::CUSTOMER_STATE_ACTIVE && !duplicate_allowed &&
            !tx.CheckDuplicates(c).ok()) {
          duplicate_allowed = true;
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        return SaveVersion(tx, settings->settings, *src, c, duplicate_allowed);
      },
      nullptr);
}

absl::Status CustomerMergeSaga::Finalize(const std::string& tenant, const MergeOperation& op) {
  return store_.Write(
      tenant, StepOptions(op),
      [&](DirectoryTx& tx) -> absl::Status {
        MergeOperation next = op;
        next.set_state(v1::MERGE_OPERATION_STATE_SUCCEEDED);
        *next.mutable_update_time() = ToProto(tx.now());
        *next.mutable_complete_time() = next.update_time();
        auto claimed =
            store::OperationRecords(tx).AdvanceMerge(v1::MERGE_OPERATION_STATE_LEDGER_MOVED, next);
        if (!claimed.ok() || !*claimed) return claimed.status();
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        const std::string& source = op.source_customer_id();
        const std::string& target = op.target_customer_id();
        auto src = MustFind(tx, source);
        if (!src.ok()) return src.status();
        auto tgt = MustFind(tx, target);
        if (!tgt.ok()) return tgt.status();

        // The target receives the source's data, unless it was erased meanwhile (then the
        // source's personal data goes too: they are the same person).
        const bool target_erased = tgt->customer.state() == v1::CUSTOMER_STATE_ERASED;
        if (!target_erased) {
          domain::TakenContacts taken;
          taken.phone = [&](const std::string& e164) {
            if (tgt->duplicate_allowed) return false;
            Customer probe;
            probe.set_customer_id(target);
            probe.mutable_phone()->set_e164(e164);
            return !tx.CheckDuplicates(probe).ok();
          };
          taken.email = [&](const std::string& email) {
            if (tgt->duplicate_allowed) return false;
            Customer probe;
            probe.set_customer_id(target);
            probe.set_email(email);
            return !tx.CheckDuplicates(probe).ok();
          };
          Customer merged = domain::MergeCustomerData(tgt->customer, src->customer, taken);
          if (!google::protobuf::util::MessageDifferencer::Equals(merged, tgt->customer)) {
            if (auto s = SaveVersion(tx, settings->settings, *tgt, merged, tgt->duplicate_allowed);
                !s.ok()) {
              return s;
            }
          }
        }

        // The source becomes a read-only pointer to the target.
        Customer pointer = target_erased ? domain::Anonymized(src->customer) : src->customer;
        pointer.set_state(v1::CUSTOMER_STATE_MERGED);
        pointer.set_merged_into_customer_id(target);
        const int64_t version = src->version + 1;
        if (auto s = StoreVersion(tx, settings->settings, pointer, version, src->duplicate_allowed);
            !s.ok()) {
          return s;
        }
        v1::CustomerMerged merged_event;
        merged_event.set_source_customer_id(source);
        merged_event.set_target_customer_id(target);
        merged_event.set_merge_operation_id(op.merge_operation_id());
        if (auto s = tx.Emit("customer", source, version, merged_event); !s.ok()) return s;

        // Customers merged into the source earlier now point at the target directly.
        auto earlier = store::OperationRecords(tx).CustomersMergedInto(source);
        if (!earlier.ok()) return earlier.status();
        for (const std::string& id : *earlier) {
          auto old = MustFind(tx, id);
          if (!old.ok()) return old.status();
          Customer c = old->customer;
          c.set_merged_into_customer_id(target);
          if (auto s = SaveVersion(tx, settings->settings, *old, c, old->duplicate_allowed);
              !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      },
      nullptr);
}

absl::Status CustomerMergeSaga::ResumeOpen() {
  std::vector<store::OpenOperation> open;
  absl::Status status = store_.Read("", [&](DirectoryTx& tx) -> absl::Status {
    auto found = store::OperationRecords(tx).OpenMerges(100);
    if (!found.ok()) return found.status();
    open = *std::move(found);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  absl::Status first;
  for (const auto& op : open) {
    auto driven = Drive(op.tenant_id, op.id);
    if (first.ok() && !driven.ok()) first = driven.status();
  }
  return first;
}

}  // namespace kelola::customer::app
