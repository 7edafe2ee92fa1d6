#include "customer-svc/app/customer_writes.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "customer-svc/store/privacy_records.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

namespace kelola::customer::app {

using store::CustomerRecord;
using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;

std::string CanonicalId(absl::string_view id) {
  const std::string_view view(id.data(), id.size());
  if (ids::IsValidId(view)) return absl::AsciiStrToLower(id);
  return std::string(id);
}

absl::StatusOr<StoredCustomer> MustFind(DirectoryTx& tx, absl::string_view id) {
  auto found = tx.FindCustomer(id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return NotFound("CUSTOMER_NOT_FOUND", "customer", "customer_id", id);
  }
  return **found;
}

absl::Status CheckChangeable(const Customer& c, bool erased_ok) {
  switch (c.state()) {
    case v1::CUSTOMER_STATE_MERGED:
      return errors::Error(
          absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGED",
          absl::StrCat("the customer was merged into ", c.merged_into_customer_id()),
          {{"customer_id", c.customer_id()},
           {"merged_into_customer_id", c.merged_into_customer_id()}});
    case v1::CUSTOMER_STATE_MERGING:
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_MERGE_IN_PROGRESS",
                           "the customer is being merged", {{"customer_id", c.customer_id()}});
    case v1::CUSTOMER_STATE_ERASED:
      if (erased_ok) return absl::OkStatus();
      return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ERASED",
                           "the customer's personal data was erased",
                           {{"customer_id", c.customer_id()}});
    default:
      return absl::OkStatus();
  }
}

std::string Fingerprint(google::protobuf::Message& copy) {
  // request_id is the key, not part of the content.
  const auto* field = copy.GetDescriptor()->FindFieldByName("request_id");
  if (field != nullptr) copy.GetReflection()->ClearField(&copy, field);
  return idempotency::Fingerprint(copy);
}

store::WriteOptions Options(const server::RequestContext& rc, absl::string_view scope,
                            absl::string_view request_id, const std::string& hash) {
  store::WriteOptions o;
  o.principal = rc.principal;
  o.request_id = request_id.empty() ? rc.request_id : std::string(request_id);
  o.scope = std::string(scope);
  o.idempotency_key = std::string(request_id);
  o.request_hash = hash;
  return o;
}

absl::StatusOr<absl::TimeZone> TenantZone(const v1::TenantSettings& settings) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(settings.time_zone(), &tz)) {
    return absl::InternalError(
        absl::StrCat("tenant time zone not loadable: ", settings.time_zone()));
  }
  return tz;
}

CustomerRecord RecordFor(const Customer& c, int64_t version, bool duplicate_allowed,
                         const v1::TenantSettings& settings) {
  CustomerRecord r;
  r.customer = c;
  r.version = version;
  r.duplicate_allowed = duplicate_allowed;
  r.collation_locale = domain::CollationLocale(settings.default_phone_region());
  return r;
}

void Stamp(Customer& c, int64_t version, absl::Time now) {
  c.set_etag(domain::EtagFor(version));
  *c.mutable_update_time() = ToProto(now);
}

void StampNewCustomer(Customer& c, absl::Time now) {
  c.set_state(v1::CUSTOMER_STATE_ACTIVE);
  *c.mutable_create_time() = ToProto(now);
  Stamp(c, 1, now);
}

absl::Status CheckCategory(DirectoryTx& tx, const std::string& category_id,
                           errors::FieldErrors& errors) {
  if (category_id.empty()) return absl::OkStatus();
  store::CategoryRecords categories(tx);
  auto seeded = categories.DefaultCategoriesSeeded();
  if (!seeded.ok()) return seeded.status();
  if (!*seeded) {
    absl::Status s = categories.EnsureDefaultCategories();
    if (!s.ok()) return s;
  }
  auto found = categories.FindCategory(category_id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) errors.Add("customer.category_id", "no such category");
  return absl::OkStatus();
}

absl::Status StoreVersion(DirectoryTx& tx, const v1::TenantSettings& settings, Customer& c,
                          int64_t version, bool duplicate_allowed) {
  Stamp(c, version, tx.now());
  return tx.UpdateCustomer(RecordFor(c, version, duplicate_allowed, settings));
}

bool ContactChanged(const Customer& a, const Customer& b) {
  auto phones = [](const Customer& c) {
    std::vector<std::string> out;
    if (c.has_phone()) out.push_back(c.phone().e164());
    for (const auto& p : c.additional_phones()) out.push_back(p.e164());
    std::sort(out.begin(), out.end());
    return out;
  };
  return a.email() != b.email() || phones(a) != phones(b);
}

absl::StatusOr<Customer> InsertNewCustomer(DirectoryTx& tx, const v1::TenantSettings& settings,
                                           Customer customer, const std::string& id,
                                           bool allow_duplicate,
                                           std::optional<int64_t> limited_count,
                                           KnownAboutNewCustomer known) {
  if (!known.id_is_new) {
    auto existing = tx.FindCustomer(id);
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      return errors::Error(absl::StatusCode::kAlreadyExists, "CUSTOMER_ID_EXISTS",
                           "a customer with this id already exists", {{"customer_id", id}});
    }
    auto deleted = tx.IsDeleted(id);
    if (!deleted.ok()) return deleted.status();
    if (*deleted) {
      return errors::Error(absl::StatusCode::kAlreadyExists, "CUSTOMER_ID_EXISTS",
                           "this id belonged to a deleted customer; ids are never reused",
                           {{"customer_id", id}});
    }
  }
  customer.set_customer_id(id);

  // C16: the plan limit, counted inside this transaction.
  const int64_t limit = settings.customer_limit();
  if (limit > 0) {
    int64_t count = 0;
    if (limited_count.has_value()) {
      count = *limited_count;
    } else {
      auto counted = tx.CountLimitedCustomers(/*lock=*/true);
      if (!counted.ok()) return counted.status();
      count = *counted;
    }
    if (count >= limit) {
      return errors::Error(
          absl::StatusCode::kResourceExhausted, "CUSTOMER_LIMIT_REACHED",
          absl::StrCat("the plan allows ", limit,
                       " customers and all are in use: archive is not enough, erase or "
                       "merge customers or upgrade the plan"),
          {{"limit", absl::StrCat(limit)}, {"count", absl::StrCat(count)}});
    }
  }
  // C6: duplicates (the unique indexes back this check up under races).
  if (!allow_duplicate && !known.duplicates_checked) {
    if (auto s = tx.CheckDuplicates(customer); !s.ok()) return s;
  }

  StampNewCustomer(customer, tx.now());
  if (auto s = tx.InsertCustomer(RecordFor(customer, 1, allow_duplicate, settings)); !s.ok()) {
    return s;
  }
  if (customer.marketing_consent().state() != v1::MARKETING_CONSENT_STATE_UNSPECIFIED) {
    if (auto s = store::PrivacyRecords(tx).AddConsent(id, customer.marketing_consent()); !s.ok())
      return s;
  }
  v1::CustomerCreated event;
  *event.mutable_customer() = customer;
  if (auto s = tx.Emit("customer", id, 1, event); !s.ok()) return s;
  return customer;
}

absl::StatusOr<Customer> SaveCustomerChanges(DirectoryTx& tx, const v1::TenantSettings& settings,
                                             const store::StoredCustomer& current, Customer next,
                                             bool allow_duplicate) {
  // Output-only fields stay as they are.
  const Customer& before = current.customer;
  const std::string& id = before.customer_id();
  next.set_customer_id(id);
  next.set_state(before.state());
  next.set_merged_into_customer_id(before.merged_into_customer_id());
  *next.mutable_marketing_consent() = before.marketing_consent();
  if (!before.has_marketing_consent()) next.clear_marketing_consent();
  if (before.has_create_time()) *next.mutable_create_time() = before.create_time();
  if (before.has_archive_time()) *next.mutable_archive_time() = before.archive_time();
  next.set_etag(before.etag());
  if (before.has_update_time()) *next.mutable_update_time() = before.update_time();

  const std::vector<std::string> changed = domain::ChangedPaths(before, next);
  if (changed.empty()) return before;  // nothing to do: same etag, no event
  const bool contact_changed = ContactChanged(before, next);
  bool duplicate_allowed = current.duplicate_allowed;
  if (allow_duplicate) {
    duplicate_allowed = true;
  } else if (contact_changed) {
    duplicate_allowed = false;
  }
  if (!duplicate_allowed && next.state() == v1::CUSTOMER_STATE_ACTIVE &&
      (contact_changed || current.duplicate_allowed)) {
    if (auto s = tx.CheckDuplicates(next); !s.ok()) return s;
  }
  const int64_t version = current.version + 1;
  if (auto s = StoreVersion(tx, settings, next, version, duplicate_allowed); !s.ok()) {
    return s;
  }
  v1::CustomerUpdated event;
  *event.mutable_customer() = next;
  for (const auto& p : changed) event.mutable_changed_fields()->add_paths(p);
  if (auto s = tx.Emit("customer", id, version, event); !s.ok()) return s;
  if (before.category_id() != next.category_id()) {
    v1::CustomerCategoryChanged cc;
    cc.set_customer_id(id);
    cc.set_old_category_id(before.category_id());
    cc.set_new_category_id(next.category_id());
    if (auto s = tx.Emit("customer", id, version, cc); !s.ok()) return s;
  }
  return next;
}

}  // namespace kelola::customer::app
