#include "customer-svc/app/ledger_protocol.h"

namespace kelola::customer::app {

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

LedgerTenant LedgerTenantOf(const std::string& tenant_id, const v1::TenantSettings& settings) {
  return LedgerTenant{tenant_id, settings.currency_code(), settings.time_zone()};
}

absl::StatusOr<LedgerTenant> LoadLedgerTenant(store::DirectoryStore& store,
                                              const std::string& tenant_id) {
  LedgerTenant out;
  absl::Status status = store.Read(tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    out = LedgerTenantOf(tenant_id, settings->settings);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace kelola::customer::app
