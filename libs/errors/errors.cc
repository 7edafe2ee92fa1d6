#include "libs/errors/errors.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace kelola::errors {
namespace {

constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

std::string UpperSnake(std::string name) {
  for (char& c : name) {
    if (c == ' ') c = '_';
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return name;
}

google::rpc::ErrorInfo GetErrorInfo(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  if (auto payload = status.GetPayload(kErrorInfoUrl); payload.has_value()) {
    info.ParseFromString(std::string(*payload));
  }
  return info;
}

google::rpc::BadRequest GetBadRequest(const absl::Status& status) {
  google::rpc::BadRequest bad;
  if (auto payload = status.GetPayload(kBadRequestUrl); payload.has_value()) {
    bad.ParseFromString(std::string(*payload));
  }
  return bad;
}

}  // namespace

absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                   const Metadata& metadata, const std::vector<FieldViolation>& fields) {
  absl::Status status(code, message);
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  if (!fields.empty()) {
    google::rpc::BadRequest bad;
    for (const auto& field : fields) {
      auto* violation = bad.add_field_violations();
      violation->set_field(field.field);
      violation->set_description(field.description);
    }
    status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  }
  return status;
}

std::string Reason(const absl::Status& status) {
  if (status.ok()) return "";
  std::string reason = GetErrorInfo(status).reason();
  return reason.empty() ? UpperSnake(CodeName(status.code())) : reason;
}

Metadata GetMetadata(const absl::Status& status) {
  Metadata out;
  const google::rpc::ErrorInfo info = GetErrorInfo(status);
  for (const auto& [key, value] : info.metadata()) out[key] = value;
  return out;
}

std::vector<FieldViolation> Violations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  const google::rpc::BadRequest bad = GetBadRequest(status);
  for (const auto& v : bad.field_violations()) {
    out.push_back({v.field(), v.description()});
  }
  return out;
}

void FieldErrors::Add(std::string field, std::string description) {
  violations_.push_back({std::move(field), std::move(description)});
}

void FieldErrors::Merge(absl::string_view prefix, const absl::Status& status) {
  if (status.ok()) return;
  auto violations = Violations(status);
  if (violations.empty()) {
    Add(std::string(prefix), std::string(status.message()));
    return;
  }
  for (auto& v : violations) {
    Add(prefix.empty() ? v.field : absl::StrCat(prefix, ".", v.field), v.description);
  }
}

absl::Status FieldErrors::ToStatus(absl::string_view reason) const {
  if (violations_.empty()) return absl::OkStatus();
  std::string message = "invalid request:";
  for (const auto& v : violations_)
    absl::StrAppend(&message, " ", v.field, " (", v.description, ");");
  message.pop_back();
  return Error(absl::StatusCode::kInvalidArgument, reason, message, {}, violations_);
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain) {
  if (status.ok()) return grpc::Status::OK;
  const bool hide =
      status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown;
  const std::string message = hide ? "internal error" : std::string(status.message());

  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);
  google::rpc::ErrorInfo info = GetErrorInfo(status);
  if (info.reason().empty()) info.set_reason(UpperSnake(CodeName(status.code())));
  if (info.domain().empty()) info.set_domain(std::string(domain));
  if (hide) info.clear_metadata();
  auto* any = rpc_status.add_details();
  any->set_type_url(kErrorInfoUrl);
  any->set_value(info.SerializeAsString());
  if (auto bad = status.GetPayload(kBadRequestUrl); bad.has_value()) {
    auto* detail = rpc_status.add_details();
    detail->set_type_url(kBadRequestUrl);
    detail->set_value(std::string(*bad));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc_status;
  if (status.error_details().empty() || !rpc_status.ParseFromString(status.error_details())) {
    return out;
  }
  for (const auto& detail : rpc_status.details()) {
    if (detail.type_url() == kErrorInfoUrl || detail.type_url() == kBadRequestUrl) {
      out.SetPayload(detail.type_url(), absl::Cord(detail.value()));
    }
  }
  return out;
}

}  // namespace kelola::errors
