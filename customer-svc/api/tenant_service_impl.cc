#include "customer-svc/api/tenant_service_impl.h"

#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "google/protobuf/util/time_util.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/auth/access_policy.h"
#include "libs/idempotency/idempotency.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {
namespace {

// Fills the output-only fields of the settings.
absl::Status Decorate(store::DirectoryTx& tx, const store::StoredSettings& stored,
                      v1::TenantSettings* out) {
  *out = stored.settings;
  out->set_tenant_id(tx.tenant_id());
  out->set_etag(domain::EtagFor(stored.version));
  auto count = tx.CountLimitedCustomers(false);
  if (!count.ok()) return count.status();
  out->set_customer_count(static_cast<int32_t>(*count));
  return absl::OkStatus();
}

}  // namespace

grpc::Status TenantServiceImpl::GetTenantSettings(grpc::ServerContext* context,
                                                  const v1::GetTenantSettingsRequest* request,
                                                  v1::GetTenantSettingsResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  return ToGrpc(store_.Read(rc->tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto stored = tx.Settings();
    if (!stored.ok()) return stored.status();
    return Decorate(tx, *stored, response->mutable_settings());
  }));
}

grpc::Status TenantServiceImpl::UpdateTenantSettings(grpc::ServerContext* context,
                                                     const v1::UpdateTenantSettingsRequest* request,
                                                     v1::UpdateTenantSettingsResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.TenantService/UpdateTenantSettings");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    return ToGrpc(InvalidField("request_id", s.message()));
  }
  v1::UpdateTenantSettingsRequest copy = *request;
  copy.clear_request_id();
  store::WriteOptions options;
  options.principal = rc->principal;
  options.request_id = request->request_id();
  options.scope = "UpdateTenantSettings";
  options.idempotency_key = request->request_id();
  options.request_hash = idempotency::Fingerprint(copy);
  const std::vector<std::string> paths(request->update_mask().paths().begin(),
                                       request->update_mask().paths().end());
  absl::Status status = store_.Write(
      rc->tenant_id, options,
      [&](store::DirectoryTx& tx) -> absl::Status {
        auto stored = tx.Settings();
        if (!stored.ok()) return stored.status();
        if (auto s = domain::CheckEtag(request->settings().etag(), stored->version); !s.ok()) {
          return s;
        }
        auto next = domain::ApplySettingsMask(stored->settings, request->settings(), paths);
        if (!next.ok()) return next.status();
        if (auto s = domain::ValidateTenantSettings(*next); !s.ok()) return s;
        // The plan limit is the platform's to set, not the shop's (G4).
        if (next->customer_limit() != stored->settings.customer_limit()) {
          if (auto s = auth::RequireAnyRole(rc->identity, {auth::Role::kPlatformAdmin},
                                            "changing customer_limit");
              !s.ok()) {
            return s;
          }
        }
        if (next->currency_code() != stored->settings.currency_code()) {
          auto entries = store::CategoryRecords(tx).CountAllPriceEntries();
          if (!entries.ok()) return entries.status();
          if (*entries > 0) {
            return errors::Error(absl::StatusCode::kFailedPrecondition, "CURRENCY_LOCKED",
                                 "the currency cannot change once price lists hold prices",
                                 {{"price_list_entry_count", absl::StrCat(*entries)}});
          }
        }
        store::StoredSettings saved;
        saved.settings = *next;
        saved.settings.set_tenant_id(tx.tenant_id());
        saved.settings.clear_customer_count();
        saved.settings.clear_etag();
        saved.version = stored->version + 1;
        *saved.settings.mutable_update_time() = ToProto(tx.now());
        if (auto s = tx.PutSettings(saved.settings, saved.version); !s.ok()) return s;
        if (auto s = Decorate(tx, saved, response->mutable_settings()); !s.ok()) return s;
        v1::TenantSettingsChanged event;
        *event.mutable_settings() = response->settings();
        return tx.Emit("tenant", tx.tenant_id(), saved.version, event);
      },
      response);
  return ToGrpc(status);
}

}  // namespace kelola::customer::api
