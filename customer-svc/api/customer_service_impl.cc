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
#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_stats.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/domain/birthdays.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/domain/pricing.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "customer-svc/store/customer_operations.h"
#include "customer-svc/store/customer_query.h"
#include "google/protobuf/util/json_util.h"
#include "libs/money/money.h"
#include "libs/server/request_context.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::api {
namespace {

using store::DirectoryTx;
using v1::Customer;

// Who writes, and the request's idempotency key: its request_id with the fingerprint of
// its content.
template <typename Request>
store::WriteOptions WriteKey(const server::RequestContext& rc, absl::string_view scope,
                             const Request& request) {
  Request copy = request;
  return app::Options(rc, scope, request.request_id(), app::Fingerprint(copy));
}

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
  app::NewCustomerCommand cmd;
  if (!request->customer_id().empty()) {
    auto id = domain::NormalizeCustomerId(request->customer_id());
    if (!id.ok()) {
      errors.Add("customer_id", "must be a UUID such as 0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60");
    } else {
      cmd.customer_id = *id;
    }
  }
  if (!request->customer().customer_id().empty() &&
      app::CanonicalId(request->customer().customer_id()) != cmd.customer_id) {
    errors.Add("customer.customer_id", "must be empty or equal to customer_id");
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!request->has_customer()) errors.Add("customer", "required");
  if (!errors.empty()) return ToGrpc(errors.ToStatus());

  cmd.customer = request->customer();
  cmd.allow_duplicate = request->allow_duplicate();
  return ToGrpc(
      create_.Run(rc->tenant_id, WriteKey(*rc, "CreateCustomer", *request), cmd, *response));
}

grpc::Status CustomerServiceImpl::GetCustomer(grpc::ServerContext* context,
                                              const v1::GetCustomerRequest* request,
                                              v1::GetCustomerResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->customer_id().empty()) return ToGrpc(InvalidField("customer_id", "required"));
  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto found = app::MustFind(tx, app::CanonicalId(request->customer_id()));
    if (!found.ok()) return found.status();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    *response->mutable_customer() = found->customer;
    return app::AttachStats(tx, settings->settings.currency_code(), {response->mutable_customer()});
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
      auto found = tx.FindCustomer(app::CanonicalId(raw));
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
    if (auto s = app::AttachStats(tx, settings->settings.currency_code(), customers); !s.ok())
      return s;
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
  app::CustomerUpdate cmd;
  cmd.customer_id = app::CanonicalId(request->customer().customer_id());
  cmd.patch = request->customer();
  cmd.update_mask = request->update_mask();
  cmd.allow_duplicate = request->allow_duplicate();
  return ToGrpc(
      change_.Update(rc->tenant_id, WriteKey(*rc, "UpdateCustomer", *request), cmd, *response));
}

namespace {

// Archive and restore read the same request fields.
template <typename Request>
absl::StatusOr<app::StateChange> StateChangeOf(const Request& request) {
  errors::FieldErrors errors;
  if (request.customer_id().empty()) errors.Add("customer_id", "required");
  if (auto s = domain::ValidateRequestId(request.request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return errors.ToStatus();
  return app::StateChange{app::CanonicalId(request.customer_id()), request.etag()};
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
  auto cmd = StateChangeOf(*request);
  if (!cmd.ok()) return ToGrpc(cmd.status());
  return ToGrpc(
      change_.Archive(rc->tenant_id, WriteKey(*rc, "ArchiveCustomer", *request), *cmd, *response));
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
  auto cmd = StateChangeOf(*request);
  if (!cmd.ok()) return ToGrpc(cmd.status());
  return ToGrpc(
      change_.Restore(rc->tenant_id, WriteKey(*rc, "RestoreCustomer", *request), *cmd, *response));
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
  const app::ConsentDecision cmd{app::CanonicalId(request->customer_id()), request->state(),
                                 *source, when};
  return ToGrpc(change_.SetConsent(rc->tenant_id, WriteKey(*rc, "SetMarketingConsent", *request),
                                   cmd, *response));
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
  const app::Erasure cmd{app::CanonicalId(request->customer_id()), request->etag(), *reason};
  return ToGrpc(
      change_.Erase(rc->tenant_id, WriteKey(*rc, "EraseCustomer", *request), cmd, *response));
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
  const std::string id = app::CanonicalId(request->customer_id());
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  absl::Status status = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto current = app::MustFind(tx, id);
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
    auto merged = store::OperationRecords(tx).CustomersMergedInto(id);
    if (!merged.ok()) return merged.status();
    std::vector<std::string> merged_json;
    for (const std::string& m : *merged) merged_json.push_back(JsonString(m));
    auto operations = store::OperationRecords(tx).MergesOf(id);
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
    auto tz = app::TenantZone(settings->settings);
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
      auto customer = app::MustFind(tx, app::CanonicalId(request->customer_id()));
      if (!customer.ok()) return customer.status();
      if (customer->customer.state() == v1::CUSTOMER_STATE_MERGED &&
          !customer->customer.merged_into_customer_id().empty()) {
        auto survivor = app::MustFind(tx, customer->customer.merged_into_customer_id());
        if (!survivor.ok()) return survivor.status();
        customer = std::move(survivor);
      }
      category_id = customer->customer.category_id();
    }
    std::optional<money::Money> list_price;
    int64_t discount = 0;
    if (!category_id.empty()) {
      store::CategoryRecords categories(tx);
      auto category = categories.FindCategory(category_id);
      if (!category.ok()) return category.status();
      if (!category->has_value()) {
        category_id.clear();  // deleted meanwhile: no rule
      } else {
        discount = (*category)->category.member_discount_basis_points();
        auto entry = categories.FindPriceEntry(category_id, request->sku());
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
