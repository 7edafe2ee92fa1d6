#include "customer-svc/api/customer_service_impl.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/quote_price.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/store/customer_query.h"
#include "libs/server/request_context.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::api {
namespace {

using v1::Customer;

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
  return ToGrpc(reads_.Get(rc->tenant_id, app::CanonicalId(request->customer_id()),
                           *response->mutable_customer()));
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
  const std::vector<std::string> ids(request->customer_ids().begin(),
                                     request->customer_ids().end());
  absl::Status status = reads_.BatchGet(rc->tenant_id, ids, request->allow_missing(), *response);
  if (status.ok()) status = CheckResponseSize(*response);
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
  return ToGrpc(
      reads_.ExportData(rc->tenant_id, app::CanonicalId(request->customer_id()), *response));
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
  const app::BirthdayQuery query{days, request->filter(), *page_size, request->page_token()};
  return ToGrpc(reads_.UpcomingBirthdays(rc->tenant_id, query, *response));
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

  const app::PriceQuestion question{request->sku(), request->base_price().amount_minor(),
                                    request->base_price().currency_code(), request->customer_id()};
  return ToGrpc(app::QuotePrice(store_, rc->tenant_id, question, *response));
}

}  // namespace kelola::customer::api
