#include "ledger-svc/api/request_support.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/request_id/request_id.h"
#include "libs/server/request_context.h"

namespace kelola::ledger::api {
namespace {

std::string HeaderValue(const grpc::ServerContext& context, const std::string& key) {
  const auto& md = context.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  return errors::ToGrpcStatus(status, kErrorDomain);
}

absl::StatusOr<LedgerContext> ReadLedgerContext(const grpc::ServerContext& context) {
  auto rc = server::ReadRequestContext(context);
  if (!rc.ok()) return rc.status();
  LedgerContext ctx;
  ctx.tenant_id = rc->tenant_id;
  ctx.principal = rc->principal;
  const std::string currency = HeaderValue(context, kCurrencyHeader);
  if (!currency.empty()) {
    if (currency != "IDR" && currency != "THB") {
      return errors::Error(absl::StatusCode::kInvalidArgument, "CURRENCY_MISMATCH",
                           "tenant currency must be IDR or THB", {{"currency_code", currency}});
    }
    ctx.currency = currency;
  }
  std::string zone = HeaderValue(context, kTimeZoneHeader);
  if (zone.empty()) zone = "Asia/Jakarta";
  if (!absl::LoadTimeZone(zone, &ctx.time_zone)) {
    if (zone == "Asia/Jakarta" || zone == "Asia/Bangkok") {
      ctx.time_zone = absl::FixedTimeZone(7 * 3600);  // no tzdata installed
    } else {
      return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                           "unknown time zone", {{"time_zone", zone}});
    }
  }
  return ctx;
}

bool IsValidEntityId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

void CheckRequestId(errors::FieldErrors& fields, const std::string& id, const std::string& field) {
  request_id::Check(fields, id, request_id::Presence::kRequired, field);
}

bool IsValidRequestId(const std::string& id) {
  return request_id::Problem(id, request_id::Presence::kRequired).empty();
}

void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& id,
             bool required) {
  if (id.empty()) {
    if (required) fields.Add(field, "required");
    return;
  }
  if (!IsValidEntityId(id)) fields.Add(field, "must be 1-64 characters of [A-Za-z0-9_-]");
}

void CheckLength(errors::FieldErrors& fields, const std::string& field, const std::string& text,
                 size_t max, bool required) {
  if (required && text.empty()) {
    fields.Add(field, "required");
  } else if (text.size() > max) {
    fields.Add(field, absl::StrCat("at most ", max, " characters"));
  }
}

}  // namespace kelola::ledger::api
