#include "libs/errors/errors.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "libs/utf8/utf8.h"

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

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kEllipsis[] = "\xE2\x80\xA6";     // U+2026

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

// `text` with every invalid byte replaced by U+FFFD, whatever its length.
std::string Utf8(absl::string_view text) {
  return ClipUtf8(text, std::numeric_limits<size_t>::max());
}

// ErrorInfo with every string valid UTF-8, metadata bounded (see kMaxMetadataBytes).
void BoundErrorInfo(google::rpc::ErrorInfo& info) {
  info.set_reason(ClipUtf8(info.reason(), kMaxMetadataValueBytes));
  info.set_domain(ClipUtf8(info.domain(), kMaxMetadataValueBytes));
  const std::map<std::string, std::string> sorted(info.metadata().begin(), info.metadata().end());
  info.clear_metadata();
  size_t budget = kMaxMetadataBytes;
  for (const auto& [key, value] : sorted) {
    if (budget == 0) break;
    std::string clipped = ClipUtf8(value, std::min(kMaxMetadataValueBytes, budget));
    budget -= clipped.size() < budget ? clipped.size() : budget;
    (*info.mutable_metadata())[ClipUtf8(key, kMaxMetadataKeyBytes)] = std::move(clipped);
  }
}

// The first violations that fit the bounds; `omitted` counts the others.
google::rpc::BadRequest BoundBadRequest(const google::rpc::BadRequest& bad, size_t* omitted) {
  google::rpc::BadRequest out;
  size_t bytes = 0;
  for (const auto& v : bad.field_violations()) {
    if (static_cast<size_t>(out.field_violations_size()) == kMaxViolations) break;
    google::rpc::BadRequest::FieldViolation bounded;
    bounded.set_field(ClipUtf8(v.field(), kMaxFieldBytes));
    bounded.set_description(ClipUtf8(v.description(), kMaxDescriptionBytes));
    bytes += bounded.ByteSizeLong() + 3;
    if (bytes > kMaxViolationsBytes && out.field_violations_size() > 0) break;
    *out.add_field_violations() = std::move(bounded);
  }
  *omitted = static_cast<size_t>(bad.field_violations_size() - out.field_violations_size());
  return out;
}

}  // namespace

std::string ClipUtf8(absl::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  size_t last_fit = 0;  // out.size() at the last boundary where "…" still fits
  const size_t ellipsis = sizeof(kEllipsis) - 1;
  while (!text.empty()) {
    if (out.size() + ellipsis <= max_bytes) last_fit = out.size();
    const size_t length = utf8::SequenceLength(text);
    const absl::string_view piece =
        length == 0 ? absl::string_view(kReplacement) : text.substr(0, length);
    if (out.size() + piece.size() > max_bytes) {
      // Too long: cut at the last boundary with room for the ellipsis.
      if (max_bytes < ellipsis) {
        return out;
      }
      out.resize(last_fit);
      out.append(kEllipsis);
      return out;
    }
    out.append(piece.data(), piece.size());
    text.remove_prefix(length == 0 ? 1 : length);
  }
  return out;
}

absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                   const Metadata& metadata, const std::vector<FieldViolation>& fields) {
  absl::Status status(code, message);
  if (status.ok()) return status;
  // Payloads are protobuf messages, whose strings must be valid UTF-8 to be read back.
  google::rpc::ErrorInfo info;
  info.set_reason(Utf8(reason));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[Utf8(key)] = Utf8(value);
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  if (!fields.empty()) {
    google::rpc::BadRequest bad;
    for (const auto& field : fields) {
      auto* violation = bad.add_field_violations();
      violation->set_field(Utf8(field.field));
      violation->set_description(Utf8(field.description));
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
  // The message names the first violations briefly; the BadRequest carries all of them.
  std::string message = "invalid request:";
  size_t listed = 0;
  for (const auto& v : violations_) {
    const std::string item =
        absl::StrCat(" ", ClipUtf8(v.field, 60), " (", ClipUtf8(v.description, 80), ");");
    if (listed > 0 && message.size() + item.size() > kMaxMessageBytes - 40) break;
    message += item;
    ++listed;
  }
  message.pop_back();
  if (listed < violations_.size()) {
    absl::StrAppend(&message, "; and ", violations_.size() - listed, " more");
  }
  return Error(absl::StatusCode::kInvalidArgument, reason, message, {}, violations_);
}

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view domain) {
  if (status.ok()) return grpc::Status::OK;
  const bool hide =
      status.code() == absl::StatusCode::kInternal || status.code() == absl::StatusCode::kUnknown;
  const std::string message =
      hide ? "internal error" : ClipUtf8(status.message(), kMaxMessageBytes);

  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);
  google::rpc::ErrorInfo info = GetErrorInfo(status);
  if (info.reason().empty()) info.set_reason(UpperSnake(CodeName(status.code())));
  if (info.domain().empty()) info.set_domain(std::string(domain));
  if (hide) info.clear_metadata();
  size_t omitted = 0;
  google::rpc::BadRequest bad;
  if (auto payload = status.GetPayload(kBadRequestUrl); payload.has_value()) {
    bad = BoundBadRequest(GetBadRequest(status), &omitted);
  }
  BoundErrorInfo(info);
  if (omitted > 0) (*info.mutable_metadata())[kOmittedViolationsKey] = absl::StrCat(omitted);
  auto* any = rpc_status.add_details();
  any->set_type_url(kErrorInfoUrl);
  any->set_value(info.SerializeAsString());
  if (bad.field_violations_size() > 0) {
    auto* detail = rpc_status.add_details();
    detail->set_type_url(kBadRequestUrl);
    detail->set_value(bad.SerializeAsString());
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
