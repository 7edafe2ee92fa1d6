#include "customer-svc/api/customer_service_impl.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "customer-svc/api/customer_stats.h"
#include "customer-svc/api/customer_writes.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/birthdays.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/domain/pricing.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/customer_operations.h"
#include "customer-svc/store/customer_query.h"
#include "google/protobuf/util/json_util.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/money/money.h"
#include "libs/server/request_context.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::api {
namespace {

using store::CustomerRecord;
using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;

// A JSON string literal (UTF-8 passes through; quotes, backslashes, controls escaped).
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

struct BirthdayFilter {
  std::string category_id;
  bool has_consent = false;
  v1::MarketingConsentState consent = v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
};

// `category_id = "x"` and `consent = GRANTED|WITHDRAWN|UNSPECIFIED`, joined by AND.
absl::StatusOr<BirthdayFilter> ParseBirthdayFilter(absl::string_view filter) {
  BirthdayFilter out;
  if (absl::StripAsciiWhitespace(filter).empty()) return out;
  auto invalid = [](absl::string_view detail) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_FILTER",
                         absl::StrCat("invalid filter: ", detail),
                         {{"detail", std::string(detail)}}, {{"filter", std::string(detail)}});
  };
  for (absl::string_view term : absl::StrSplit(filter, " AND ")) {
    std::vector<std::string> kv = absl::StrSplit(term, absl::MaxSplits('=', 1));
    if (kv.size() != 2) return invalid(absl::StrCat("expected `field = value` in \"", term, "\""));
    std::string key(absl::StripAsciiWhitespace(kv[0]));
    std::string value(absl::StripAsciiWhitespace(kv[1]));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "category_id") {
      out.category_id = value;
    } else if (key == "consent") {
      out.has_consent = true;
      if (value == "GRANTED") {
        out.consent = v1::MARKETING_CONSENT_STATE_GRANTED;
      } else if (value == "WITHDRAWN") {
        out.consent = v1::MARKETING_CONSENT_STATE_WITHDRAWN;
      } else if (value == "UNSPECIFIED") {
        out.consent = v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
      } else {
        return invalid(absl::StrCat("unknown consent value \"", value, "\""));
      }
    } else {
      return invalid(absl::StrCat("unknown field \"", key, "\" (category_id, consent)"));
    }
  }
  return out;
}

// A BatchGetCustomers response must fit a gRPC message (clients refuse more than 4 MiB). It
// has no pages, so one that would not fit fails with RESOURCE_EXHAUSTED RESPONSE_TOO_LARGE,
// saying how many of the customers would have fitted: ask for them in smaller batches.
absl::Status CheckResponseSize(const v1::BatchGetCustomersResponse& response) {
  if (response.ByteSizeLong() <= store::kMaxPageBytes) return absl::OkStatus();
  size_t used = 0;
  int fit = 0;
  for (const Customer& c : response.customers()) {
    used += c.ByteSizeLong() + 8;
    if (used > store::kMaxPageBytes) break;
    ++fit;
  }
  return errors::Error(
      absl::StatusCode::kResourceExhausted, "RESPONSE_TOO_LARGE",
      absl::StrCat("the ", response.customers_size(), " customers hold more than ",
                   store::kMaxPageBytes, " bytes together; ask for at most ", fit, " at a time"),
      {{"field", "customer_ids"},
       {"max_items", absl::StrCat(fit)},
       {"max_bytes", absl::StrCat(store::kMaxPageBytes)}});
}

}  // namespace

grpc::Status CustomerServiceImpl::CreateCustomer(grpc::ServerContext* context,
                                                 const v1::CreateCustomerRequest* request,
                                                 v1::CreateCustomerResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());

  errors::FieldErrors errors;
  std::string given_id;
  if (!request->customer_id().empty()) {
    auto id = domain::NormalizeCustomerId(request->customer_id());
    if (!id.ok()) {
      errors.Add("customer_id", "must be a UUID such as 0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60");
    } else {
      given_id = *id;
    }
  }
  if (!request->customer().customer_id().empty() &&
      CanonicalId(request->customer().customer_id()) != given_id) {
    errors.Add("customer.customer_id", "must be empty or equal to customer_id");
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!request->has_customer()) errors.Add("customer", "required");
  if (!errors.empty()) return ToGrpc(errors.ToStatus());

  v1::CreateCustomerRequest copy = *request;
  store::WriteOptions options =
      Options(*rc, "CreateCustomer", request->request_id(), Fingerprint(copy));
  if (!given_id.empty()) options.extra_keys.emplace_back("CreateCustomer.customer_id", given_id);

  // Validated here when the tenant's settings are known (TenantSettingsMemo); again in the
  // transaction only if they changed meanwhile.
  struct Validated {
    int64_t settings_version = 0;
    Customer customer;
    errors::FieldErrors errors;
  };
  auto validate = [&](const store::StoredSettings& settings,
                      absl::Time now) -> absl::StatusOr<Validated> {
    auto tz = TenantZone(settings.settings);
    if (!tz.ok()) return tz.status();
    const domain::ValidationContext vc{settings.settings.default_phone_region(), now, *tz};
    Validated v;
    v.settings_version = settings.version;
    v.customer = domain::NormalizeCustomer(request->customer(), vc, phones_, {true, true},
                                           "customer", v.errors);
    return v;
  };
  std::optional<Validated> early;
  if (auto known = settings_memo_.Get(rc->tenant_id); known.has_value()) {
    auto v = validate(*known, clock_.Now());
    if (v.ok()) early = *std::move(v);
  }

  absl::Status status = store_.Write(
      rc->tenant_id, options,
      [&](DirectoryTx& tx) -> absl::Status {
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        settings_memo_.Put(rc->tenant_id, *settings);
        Validated v;
        if (early.has_value() && early->settings_version == settings->version) {
          v = *early;  // a copy: the transaction may run again
        } else {
          auto fresh = validate(*settings, tx.now());
          if (!fresh.ok()) return fresh.status();
          v = *std::move(fresh);
        }
        Customer& customer = v.customer;
        errors::FieldErrors& errors = v.errors;
        if (auto s = CheckCategory(tx, customer.category_id(), errors); !s.ok()) return s;
        if (!errors.empty()) return domain::ToValidationStatus(errors);

        const std::string id = given_id.empty() ? ids_.NewId() : given_id;
        KnownAboutNewCustomer known;
        known.id_is_new = given_id.empty();
        auto created = InsertNewCustomer(tx, settings->settings, std::move(customer), id,
                                         request->allow_duplicate(), std::nullopt, known);
        if (!created.ok()) return created.status();
        tx.SetIdempotencySubject(id);
        *response->mutable_customer() = *std::move(created);
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::GetCustomer(grpc::ServerContext* context,
                                              const v1::GetCustomerRequest* request,
                                              v1::GetCustomerResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->customer_id().empty()) return ToGrpc(InvalidField("customer_id", "required"));
  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto found = MustFind(tx, CanonicalId(request->customer_id()));
    if (!found.ok()) return found.status();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    *response->mutable_customer() = found->customer;
    return AttachStats(tx, settings->settings.currency_code(), {response->mutable_customer()});
  });
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::BatchGetCustomers(grpc::ServerContext* context,
                                                    const v1::BatchGetCustomersRequest* request,
                                                    v1::BatchGetCustomersResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->customer_ids_size() > 100) {
    return ToGrpc(errors::Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_ITEMS",
                                "at most 100 ids per call", {{"max_items", "100"}}));
  }
  errors::FieldErrors errors;
  if (request->customer_ids_size() == 0) errors.Add("customer_ids", "at least one id");
  for (int i = 0; i < request->customer_ids_size(); ++i) {
    if (request->customer_ids(i).empty()) {
      errors.Add(absl::StrCat("customer_ids[", i, "]"), "empty id");
    }
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    response->Clear();
    for (const auto& raw : request->customer_ids()) {
      auto found = tx.FindCustomer(CanonicalId(raw));
      if (!found.ok()) return found.status();
      if (!found->has_value()) {
        if (!request->allow_missing()) {
          return NotFound("CUSTOMER_NOT_FOUND", "customer", "customer_id", raw);
        }
        response->add_missing_customer_ids(raw);
        continue;
      }
      *response->add_customers() = (*found)->customer;
    }
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    std::vector<Customer*> customers;
    for (Customer& c : *response->mutable_customers()) customers.push_back(&c);
    if (auto s = AttachStats(tx, settings->settings.currency_code(), customers); !s.ok()) return s;
    return CheckResponseSize(*response);
  });
  if (!status.ok()) response->Clear();
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::UpdateCustomer(grpc::ServerContext* context,
                                                 const v1::UpdateCustomerRequest* request,
                                                 v1::UpdateCustomerResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->customer().customer_id().empty()) errors.Add("customer.customer_id", "required");
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const std::string id = CanonicalId(request->customer().customer_id());
  v1::UpdateCustomerRequest copy = *request;

  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "UpdateCustomer", request->request_id(), Fingerprint(copy)),
      [&](DirectoryTx& tx) -> absl::Status {
        tx.SetIdempotencySubject(id);
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckChangeable(current->customer); !s.ok()) return s;
        if (auto s = domain::CheckEtag(request->customer().etag(), current->version); !s.ok()) {
          return s;
        }
        auto candidate =
            domain::ApplyUpdateMask(current->customer, request->customer(), request->update_mask());
        if (!candidate.ok()) return candidate.status();
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        auto tz = TenantZone(settings->settings);
        if (!tz.ok()) return tz.status();
        const domain::ValidationContext vc{settings->settings.default_phone_region(), tx.now(),
                                           *tz};
        errors::FieldErrors errors = {};
        domain::ValidationScope scope;
        scope.phones = domain::MaskTouchesPhones(request->update_mask());
        Customer next =
            domain::NormalizeCustomer(*candidate, vc, phones_, scope, "customer", errors);
        if (next.category_id() != current->customer.category_id()) {
          if (auto s = CheckCategory(tx, next.category_id(), errors); !s.ok()) return s;
        }
        if (!errors.empty()) return domain::ToValidationStatus(errors);

        auto saved = SaveCustomerChanges(tx, settings->settings, *current, std::move(next),
                                         request->allow_duplicate());
        if (!saved.ok()) return saved.status();
        *response->mutable_customer() = *std::move(saved);
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
}

namespace {

// Archive and restore share everything but the direction.
template <typename Request, typename Response>
absl::Status ChangeState(store::DirectoryStore& store, const server::RequestContext& rc,
                         const Request& request, Response* response, bool archive) {
  if (request.customer_id().empty()) return InvalidField("customer_id", "required");
  if (auto s = domain::ValidateRequestId(request.request_id()); !s.ok()) {
    return InvalidField("request_id", s.message());
  }
  const std::string id = CanonicalId(request.customer_id());
  Request copy = request;
  return store.Write(
      rc.tenant_id,
      Options(rc, archive ? "ArchiveCustomer" : "RestoreCustomer", request.request_id(),
              Fingerprint(copy)),
      [&](DirectoryTx& tx) -> absl::Status {
        tx.SetIdempotencySubject(id);
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckChangeable(current->customer); !s.ok()) return s;
        if (auto s = domain::CheckEtag(request.etag(), current->version); !s.ok()) return s;
        Customer c = current->customer;
        const auto target = archive ? v1::CUSTOMER_STATE_ARCHIVED : v1::CUSTOMER_STATE_ACTIVE;
        if (c.state() == target) {
          *response->mutable_customer() = c;  // already there: no change, no event
          return absl::OkStatus();
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        c.set_state(target);
        if (archive) {
          *c.mutable_archive_time() = ToProto(tx.now());
        } else {
          c.clear_archive_time();
          // Restoring puts the phones and e-mail back into the duplicate indexes.
          if (!current->duplicate_allowed) {
            if (auto s = tx.CheckDuplicates(c); !s.ok()) return s;
          }
        }
        const int64_t version = current->version + 1;
        if (auto s = StoreVersion(tx, settings->settings, c, version, current->duplicate_allowed);
            !s.ok()) {
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
        *response->mutable_customer() = c;
        return absl::OkStatus();
      },
      response);
}

}  // namespace

grpc::Status CustomerServiceImpl::ArchiveCustomer(grpc::ServerContext* context,
                                                  const v1::ArchiveCustomerRequest* request,
                                                  v1::ArchiveCustomerResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/ArchiveCustomer");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  return ToGrpc(ChangeState(store_, *rc, *request, response, /*archive=*/true));
}

grpc::Status CustomerServiceImpl::RestoreCustomer(grpc::ServerContext* context,
                                                  const v1::RestoreCustomerRequest* request,
                                                  v1::RestoreCustomerResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/RestoreCustomer");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  return ToGrpc(ChangeState(store_, *rc, *request, response, /*archive=*/false));
}

grpc::Status CustomerServiceImpl::SetMarketingConsent(grpc::ServerContext* context,
                                                      const v1::SetMarketingConsentRequest* request,
                                                      v1::SetMarketingConsentResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  const absl::Time now = clock_.Now();
  errors::FieldErrors errors;
  if (request->customer_id().empty()) errors.Add("customer_id", "required");
  if (request->state() != v1::MARKETING_CONSENT_STATE_GRANTED &&
      request->state() != v1::MARKETING_CONSENT_STATE_WITHDRAWN) {
    errors.Add("state", "GRANTED or WITHDRAWN");
  }
  auto source = text::TrimmedName(request->source(), domain::kMaxConsentSourceChars);
  if (!source.ok()) errors.Add("source", std::string(source.status().message()));
  absl::Time when = now;
  if (request->has_consent_time()) {
    auto given = time::FromTimestamp(request->consent_time(), "consent_time");
    if (!given.ok()) {
      errors.Merge("", given.status());
    } else if (*given > now + absl::Minutes(5)) {
      errors.Add("consent_time", "in the future");
    } else {
      when = *given;
    }
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const std::string id = CanonicalId(request->customer_id());
  v1::SetMarketingConsentRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "SetMarketingConsent", request->request_id(), Fingerprint(copy)),
      [&](DirectoryTx& tx) -> absl::Status {
        tx.SetIdempotencySubject(id);
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        if (auto s = CheckChangeable(current->customer); !s.ok()) return s;
        v1::MarketingConsent decision;
        decision.set_state(request->state());
        decision.set_source(*source);
        *decision.mutable_consent_time() = ToProto(when);
        if (auto s = tx.AddConsent(id, decision); !s.ok()) return s;
        Customer c = current->customer;
        // The current consent is the decision with the latest consent_time.
        if (!c.has_marketing_consent() || !c.marketing_consent().has_consent_time() ||
            FromProto(c.marketing_consent().consent_time()) <= when) {
          *c.mutable_marketing_consent() = decision;
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        const int64_t version = current->version + 1;
        if (auto s = StoreVersion(tx, settings->settings, c, version, current->duplicate_allowed);
            !s.ok()) {
          return s;
        }
        v1::CustomerMarketingConsentChanged e;
        e.set_customer_id(id);
        *e.mutable_marketing_consent() = c.marketing_consent();
        if (auto s = tx.Emit("customer", id, version, e); !s.ok()) return s;
        *response->mutable_customer() = c;
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::EraseCustomer(grpc::ServerContext* context,
                                                const v1::EraseCustomerRequest* request,
                                                v1::EraseCustomerResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/EraseCustomer");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->customer_id().empty()) errors.Add("customer_id", "required");
  auto reason = domain::FreeText(request->reason(), domain::kMaxEraseReasonChars);
  if (!reason.ok()) errors.Add("reason", std::string(reason.status().message()));
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const std::string id = CanonicalId(request->customer_id());
  v1::EraseCustomerRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "EraseCustomer", request->request_id(), Fingerprint(copy)),
      [&](DirectoryTx& tx) -> absl::Status {
        auto current = MustFind(tx, id);
        if (!current.ok()) return current.status();
        const Customer& before = current->customer;
        if (before.state() == v1::CUSTOMER_STATE_ERASED) {
          *response->mutable_customer() = before;
          return absl::OkStatus();
        }
        if (before.state() == v1::CUSTOMER_STATE_MERGING) return CheckChangeable(before);
        if (auto s = domain::CheckEtag(request->etag(), current->version); !s.ok()) return s;
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
          if (auto s = tx.EraseTraces(c, *reason); !s.ok()) return s;
          v1::CustomerErased e;
          e.set_customer_id(c.customer_id());
          if (auto s = tx.Emit("customer", c.customer_id(), version, e); !s.ok()) return s;
          return c;
        };
        auto erased = erase(*current);
        if (!erased.ok()) return erased.status();
        // Customers merged into this one are the same person: their pointers keep no
        // personal data either.
        auto pointers = store::CustomersMergedInto(tx.transaction(), tx.tenant_id(), id);
        if (!pointers.ok()) return pointers.status();
        for (const std::string& pointer_id : *pointers) {
          auto pointer = MustFind(tx, pointer_id);
          if (!pointer.ok()) return pointer.status();
          if (auto done = erase(*pointer); !done.ok()) return done.status();
        }
        *response->mutable_customer() = *std::move(erased);
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::ExportCustomerData(grpc::ServerContext* context,
                                                     const v1::ExportCustomerDataRequest* request,
                                                     v1::ExportCustomerDataResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/ExportCustomerData");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->customer_id().empty()) return ToGrpc(InvalidField("customer_id", "required"));
  const std::string id = CanonicalId(request->customer_id());
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto current = MustFind(tx, id);
    if (!current.ok()) return current.status();
    std::string customer_json;
    if (auto s =
            google::protobuf::util::MessageToJsonString(current->customer, &customer_json, json);
        !s.ok()) {
      return absl::InternalError(std::string(s.message()));
    }
    auto history = tx.ConsentHistory(id);
    if (!history.ok()) return history.status();
    std::vector<std::string> consents;
    for (const auto& r : *history) {
      std::string c;
      if (auto s = google::protobuf::util::MessageToJsonString(r.consent, &c, json); !s.ok()) {
        return absl::InternalError(std::string(s.message()));
      }
      consents.push_back(absl::StrCat(
          "{\"decision\":", c, ",\"principal\":", JsonString(r.principal), ",\"record_time\":",
          JsonString(absl::FormatTime(absl::RFC3339_full, r.record_time, absl::UTCTimeZone())),
          "}"));
    }
    // Customers merged into this one (their pointers) and the merges it took part in.
    auto merged = store::CustomersMergedInto(tx.transaction(), tx.tenant_id(), id);
    if (!merged.ok()) return merged.status();
    std::vector<std::string> merged_json;
    for (const std::string& m : *merged) merged_json.push_back(JsonString(m));
    auto operations = store::MergeOperationsOf(tx.transaction(), tx.tenant_id(), id);
    if (!operations.ok()) return operations.status();
    std::vector<std::string> operation_json;
    for (const auto& op : *operations) {
      std::string j;
      if (auto s = google::protobuf::util::MessageToJsonString(op, &j, json); !s.ok()) {
        return absl::InternalError(std::string(s.message()));
      }
      operation_json.push_back(std::move(j));
    }
    auto events = tx.CustomerEvents(id);
    if (!events.ok()) return events.status();
    std::vector<std::string> event_json;
    for (const auto& e : *events) {
      std::string j;
      if (auto s = google::protobuf::util::MessageToJsonString(e, &j, json); !s.ok()) {
        return absl::InternalError(std::string(s.message()));
      }
      event_json.push_back(std::move(j));
    }
    const absl::Time now = tx.now();
    const std::string generated = absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone());
    response->set_data(absl::StrCat(
        "{\"customer\":", customer_json, ",\"consent_history\":[", absl::StrJoin(consents, ","),
        "],\"merged_customers\":[", absl::StrJoin(merged_json, ","), "],\"merge_operations\":[",
        absl::StrJoin(operation_json, ","), "],\"events\":[", absl::StrJoin(event_json, ","),
        "],\"generate_time\":\"", generated, "\"}"));
    response->set_content_type("application/json");
    response->set_file_name(absl::StrCat("customer-", id, ".json"));
    *response->mutable_generate_time() = ToProto(now);
    return absl::OkStatus();
  });
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::ListUpcomingBirthdays(
    grpc::ServerContext* context, const v1::ListUpcomingBirthdaysRequest* request,
    v1::ListUpcomingBirthdaysResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  int days = request->days() == 0 ? 7 : request->days();
  if (request->days() < 0 || request->days() > 366) errors.Add("days", "0-366");
  auto page_size = domain::EffectivePageSize(request->page_size(), 50, 500);
  if (!page_size.ok()) errors.Add("page_size", "must not be negative");
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  auto filter = ParseBirthdayFilter(request->filter());
  if (!filter.ok()) return ToGrpc(filter.status());
  const std::string binding = absl::StrCat(days, "|", request->filter());
  auto offset = domain::DecodePageToken(request->page_token(), "birthdays", binding);
  if (!offset.ok()) return ToGrpc(offset.status());

  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    response->Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    auto tz = TenantZone(settings->settings);
    if (!tz.ok()) return tz.status();
    const absl::CivilDay today = absl::ToCivilDay(tx.now(), *tz);
    auto candidates = tx.BirthdayCandidates(domain::WindowMonthDays(today, days));
    if (!candidates.ok()) return candidates.status();
    std::vector<domain::BirthdayInput> inputs;
    absl::flat_hash_map<std::string, const Customer*> by_id;
    for (const Customer& c : *candidates) {
      if (!filter->category_id.empty() && c.category_id() != filter->category_id) continue;
      if (filter->has_consent && c.marketing_consent().state() != filter->consent) continue;
      inputs.push_back({c.customer_id(), text::FoldForMatch(c.display_name()), c.birthday().year(),
                        c.birthday().month(), c.birthday().day()});
      by_id[c.customer_id()] = &c;
    }
    const auto hits = domain::UpcomingBirthdays(today, days, inputs);
    response->set_total_size(static_cast<int32_t>(hits.size()));
    const size_t begin = std::min<size_t>(*offset, hits.size());
    size_t end = std::min<size_t>(begin + *page_size, hits.size());
    size_t bytes = 0;  // the page is cut short below the message limit (store::kMaxPageBytes)
    for (size_t i = begin; i < end; ++i) {
      bytes += by_id[hits[i].customer_id]->ByteSizeLong() + 64;
      if (bytes > store::kMaxPageBytes && i > begin) {
        end = i;
        break;
      }
      auto* out = response->add_birthdays();
      *out->mutable_customer() = *by_id[hits[i].customer_id];
      out->mutable_next_birthday()->set_year(static_cast<int32_t>(hits[i].next_birthday.year()));
      out->mutable_next_birthday()->set_month(hits[i].next_birthday.month());
      out->mutable_next_birthday()->set_day(hits[i].next_birthday.day());
      out->set_days_until(hits[i].days_until);
      out->set_turning_age(hits[i].turning_age);
    }
    if (end < hits.size()) {
      response->set_next_page_token(domain::EncodePageToken("birthdays", binding, end));
    }
    return absl::OkStatus();
  });
  return ToGrpc(status);
}

grpc::Status CustomerServiceImpl::QuotePrice(grpc::ServerContext* context,
                                             const v1::QuotePriceRequest* request,
                                             v1::QuotePriceResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->sku().empty() || request->sku().size() > 100) errors.Add("sku", "1-100 characters");
  if (!request->has_base_price()) {
    errors.Add("base_price", "required");
  } else if (request->base_price().amount_minor() < 0) {
    errors.Add("base_price.amount_minor", "must not be negative");
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());

  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    response->Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    const std::string& currency = settings->settings.currency_code();
    if (request->base_price().currency_code() != currency) {
      return errors::Error(absl::StatusCode::kInvalidArgument, "CURRENCY_MISMATCH",
                           absl::StrCat("prices of this tenant are in ", currency),
                           {{"expected_currency", currency}},
                           {{"base_price.currency_code", absl::StrCat("must be ", currency)}});
    }
    const money::Money base{request->base_price().amount_minor(), currency};
    std::string category_id;
    if (!request->customer_id().empty()) {
      auto customer = MustFind(tx, CanonicalId(request->customer_id()));
      if (!customer.ok()) return customer.status();
      if (customer->customer.state() == v1::CUSTOMER_STATE_MERGED &&
          !customer->customer.merged_into_customer_id().empty()) {
        auto survivor = MustFind(tx, customer->customer.merged_into_customer_id());
        if (!survivor.ok()) return survivor.status();
        customer = std::move(survivor);
      }
      category_id = customer->customer.category_id();
    }
    std::optional<money::Money> list_price;
    int64_t discount = 0;
    if (!category_id.empty()) {
      auto category = tx.FindCategory(category_id);
      if (!category.ok()) return category.status();
      if (!category->has_value()) {
        category_id.clear();  // deleted meanwhile: no rule
      } else {
        discount = (*category)->category.member_discount_basis_points();
        auto entry = tx.FindPriceEntry(category_id, request->sku());
        if (!entry.ok()) return entry.status();
        if (entry->has_value()) {
          list_price = money::Money{(*entry)->price().amount_minor(), currency};
        }
      }
    }
    auto quote = domain::QuoteUnitPrice(base, list_price, discount);
    if (!quote.ok()) return quote.status();
    response->mutable_price()->set_amount_minor(quote->price.amount_minor);
    response->mutable_price()->set_currency_code(quote->price.currency_code);
    switch (quote->rule) {
      case domain::PriceRuleKind::kPriceList:
        response->set_rule(v1::PRICE_RULE_PRICE_LIST);
        break;
      case domain::PriceRuleKind::kMemberDiscount:
        response->set_rule(v1::PRICE_RULE_MEMBER_DISCOUNT);
        response->set_discount_basis_points(static_cast<int32_t>(quote->discount_bps));
        break;
      case domain::PriceRuleKind::kBase:
        response->set_rule(v1::PRICE_RULE_BASE);
        break;
    }
    response->set_category_id(category_id);
    *response->mutable_base_price() = request->base_price();
    return absl::OkStatus();
  });
  return ToGrpc(status);
}

}  // namespace kelola::customer::api
