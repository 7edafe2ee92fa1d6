#include "customer-svc/app/change_customer.h"

#include <utility>

#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/store/customer_operations.h"
#include "customer-svc/store/privacy_records.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/errors/errors.h"

namespace kelola::customer::app {

using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;

absl::Status ChangeCustomer::WriteChange(const std::string& tenant,
                                         const store::WriteOptions& options, const std::string& id,
                                         absl::string_view etag, const Change& change,
                                         google::protobuf::Message& response) {
  return store_.Write(
      tenant, options,
      [&](DirectoryTx& tx) -> absl::Status {
        tx.SetIdempotencySubject(id);
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckChangeable(current->customer); !s.ok()) return s;
        if (auto s = domain::CheckEtag(etag, current->version); !s.ok()) return s;
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        return change(tx, *current, settings->settings);
      },
      &response);
}

absl::Status ChangeCustomer::Update(const std::string& tenant, const store::WriteOptions& options,
                                    const CustomerUpdate& cmd,
                                    v1::UpdateCustomerResponse& response) {
  auto update = [&](DirectoryTx& tx, const StoredCustomer& current,
                    const v1::TenantSettings& settings) -> absl::Status {
    auto candidate = domain::ApplyUpdateMask(current.customer, cmd.patch, cmd.update_mask);
    if (!candidate.ok()) return candidate.status();
    auto tz = TenantZone(settings);
    if (!tz.ok()) return tz.status();
    const domain::ValidationContext vc{settings.default_phone_region(), tx.now(), *tz};
    errors::FieldErrors errors = {};
    domain::ValidationScope scope;
    scope.phones = domain::MaskTouchesPhones(cmd.update_mask);
    Customer next = domain::NormalizeCustomer(*candidate, vc, phones_, scope, "customer", errors);
    if (next.category_id() != current.customer.category_id()) {
      if (auto s = CheckCategory(tx, next.category_id(), errors); !s.ok()) return s;
    }
    if (!errors.empty()) return domain::ToValidationStatus(errors);

    auto saved = SaveCustomerChanges(tx, settings, current, std::move(next), cmd.allow_duplicate);
    if (!saved.ok()) return saved.status();
    *response.mutable_customer() = *std::move(saved);
    return absl::OkStatus();
  };
  return WriteChange(tenant, options, cmd.customer_id, cmd.patch.etag(), update, response);
}

template <typename Response>
absl::Status ChangeCustomer::ChangeState(const std::string& tenant,
                                         const store::WriteOptions& options, const StateChange& cmd,
                                         bool archive, Response& response) {
  const std::string& id = cmd.customer_id;
  auto change = [&](DirectoryTx& tx, const StoredCustomer& current,
                    const v1::TenantSettings& settings) -> absl::Status {
    Customer c = current.customer;
    const auto target = archive ? v1::CUSTOMER_STATE_ARCHIVED : v1::CUSTOMER_STATE_ACTIVE;
    if (c.state() == target) {
      *response.mutable_customer() = c;  // already there: no change, no event
      return absl::OkStatus();
    }
    c.set_state(target);
    if (archive) {
      *c.mutable_archive_time() = ToProto(tx.now());
    } else {
      c.clear_archive_time();
      // Restoring puts the phones and e-mail back into the duplicate indexes.
      if (!current.duplicate_allowed) {
        if (auto s = tx.CheckDuplicates(c); !s.ok()) return s;
      }
    }
    const int64_t version = current.version + 1;
    if (auto s = StoreVersion(tx, settings, c, version, current.duplicate_allowed); !s.ok()) {
      return s;
    }
    absl::Status emitted;
    if (archive) {
      v1::CustomerArchived e;
      e.set_customer_id(id);
      emitted = tx.Emit("customer", id, version, e);
    } else {
      v1::CustomerRestored e;
      e.set_customer_id(id);
      emitted = tx.Emit("customer", id, version, e);
    }
    if (!emitted.ok()) return emitted;
    *response.mutable_customer() = c;
    return absl::OkStatus();
  };
  return WriteChange(tenant, options, id, cmd.etag, change, response);
}

absl::Status ChangeCustomer::Archive(const std::string& tenant, const store::WriteOptions& options,
                                     const StateChange& cmd,
                                     v1::ArchiveCustomerResponse& response) {
  return ChangeState(tenant, options, cmd, /*archive=*/true, response);
}

absl::Status ChangeCustomer::Restore(const std::string& tenant, const store::WriteOptions& options,
                                     const StateChange& cmd,
                                     v1::RestoreCustomerResponse& response) {
  return ChangeState(tenant, options, cmd, /*archive=*/false, response);
}

absl::Status ChangeCustomer::SetConsent(const std::string& tenant,
                                        const store::WriteOptions& options,
                                        const ConsentDecision& cmd,
                                        v1::SetMarketingConsentResponse& response) {
  const std::string& id = cmd.customer_id;
  auto record = [&](DirectoryTx& tx, const StoredCustomer& current,
                    const v1::TenantSettings& settings) -> absl::Status {
    v1::MarketingConsent decision;
    decision.set_state(cmd.state);
    decision.set_source(cmd.source);
    *decision.mutable_consent_time() = ToProto(cmd.consent_time);
    if (auto s = store::PrivacyRecords(tx).AddConsent(id, decision); !s.ok()) return s;
    Customer c = current.customer;
    // The current consent is the decision with the latest consent_time.
    if (!c.has_marketing_consent() || !c.marketing_consent().has_consent_time() ||
        FromProto(c.marketing_consent().consent_time()) <= cmd.consent_time) {
      *c.mutable_marketing_consent() = decision;
    }
    const int64_t version = current.version + 1;
    if (auto s = StoreVersion(tx, settings, c, version, current.duplicate_allowed); !s.ok()) {
      return s;
    }
    v1::CustomerMarketingConsentChanged e;
    e.set_customer_id(id);
    *e.mutable_marketing_consent() = c.marketing_consent();
    if (auto s = tx.Emit("customer", id, version, e); !s.ok()) return s;
    *response.mutable_customer() = c;
    return absl::OkStatus();
  };
  // A decision is recorded whatever the version: no etag.
  return WriteChange(tenant, options, id, /*etag=*/"", record, response);
}

absl::Status ChangeCustomer::Erase(const std::string& tenant, const store::WriteOptions& options,
                                   const Erasure& cmd, v1::EraseCustomerResponse& response) {
  const std::string& id = cmd.customer_id;
  return store_.Write(
      tenant, options,
      [&](DirectoryTx& tx) -> absl::Status {
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        const Customer& before = current->customer;
        if (before.state() == v1::CUSTOMER_STATE_ERASED) {
          *response.mutable_customer() = before;
          return absl::OkStatus();
        }
        if (before.state() == v1::CUSTOMER_STATE_MERGING) return CheckChangeable(before);
        if (auto s = domain::CheckEtag(cmd.etag, current->version); !s.ok()) return s;
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        auto erase = [&](const StoredCustomer& stored) -> absl::StatusOr<Customer> {
          Customer c = domain::Anonymized(stored.customer);
          c.set_state(v1::CUSTOMER_STATE_ERASED);
          c.set_merged_into_customer_id(stored.customer.merged_into_customer_id());
          *c.mutable_erase_time() = ToProto(tx.now());
          const int64_t version = stored.version + 1;
          if (auto s = StoreVersion(tx, settings->settings, c, version, false); !s.ok()) {
            return s;
          }
          if (auto s = store::PrivacyRecords(tx).EraseTraces(c, cmd.reason); !s.ok()) return s;
          v1::CustomerErased e;
          e.set_customer_id(c.customer_id());
          if (auto s = tx.Emit("customer", c.customer_id(), version, e); !s.ok()) return s;
          return c;
        };
        auto erased = erase(*current);
        if (!erased.ok()) return erased.status();
        // Customers merged into this one are the same person: their pointers keep no
        // personal data either.
        auto pointers = store::OperationRecords(tx).CustomersMergedInto(id);
        if (!pointers.ok()) return pointers.status();
        for (const std::string& pointer_id : *pointers) {
          auto pointer = MustFind(tx, pointer_id);
          if (!pointer.ok()) return pointer.status();
          if (auto done = erase(*pointer); !done.ok()) return done.status();
        }
        *response.mutable_customer() = *std::move(erased);
        return absl::OkStatus();
      },
      &response);
}

}  // namespace kelola::customer::app
