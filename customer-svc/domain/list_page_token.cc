#include "customer-svc/domain/list_page_token.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

constexpr char kVersion[] = "k1";
constexpr size_t kMaxTokenBytes = 4096;

void AppendPart(std::string* out, absl::string_view part) {
  absl::StrAppend(out, part.size(), ":", part);
}

absl::Status Invalid(absl::string_view why) {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPageTokenInvalid,
                       absl::StrCat("page_token is invalid: ", why), {},
                       {{"page_token", std::string(why)}});
}

}  // namespace

uint64_t StableHash(absl::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string EncodeKeysetToken(absl::string_view kind, absl::string_view tenant,
                              absl::string_view binding, const std::vector<std::string>& values) {
  std::string raw;
  AppendPart(&raw, kVersion);
  AppendPart(&raw, kind);
  AppendPart(&raw, absl::StrCat(StableHash(tenant)));
  AppendPart(&raw, absl::StrCat(StableHash(binding)));
  for (const auto& v : values) AppendPart(&raw, v);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::vector<std::string>> DecodeKeysetToken(absl::string_view token,
                                                           absl::string_view kind,
                                                           absl::string_view tenant,
                                                           absl::string_view binding) {
  if (token.size() > kMaxTokenBytes) return Invalid("too long");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return Invalid("not a page token");
  std::vector<std::string> parts;
  absl::string_view rest = raw;
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    size_t length = 0;
    if (colon == absl::string_view::npos || colon == 0 || colon > 6 ||
        !absl::SimpleAtoi(rest.substr(0, colon), &length) || length > rest.size() - colon - 1) {
      return Invalid("not a page token");
    }
    parts.emplace_back(rest.substr(colon + 1, length));
    rest.remove_prefix(colon + 1 + length);
  }
  if (parts.size() < 4 || parts[0] != kVersion) return Invalid("not a page token");
  if (parts[1] != kind) return Invalid("issued by another call");
  if (parts[2] != absl::StrCat(StableHash(tenant))) return Invalid("issued for another tenant");
  if (parts[3] != absl::StrCat(StableHash(binding))) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonPageTokenMismatch,
        "page_token was issued for a request with other parameters (filter, order_by, query "
        "or show_archived); restart from the first page",
        {}, {{"page_token", "issued for other listing parameters"}});
  }
  parts.erase(parts.begin(), parts.begin() + 4);
  return parts;
}

}  // namespace kelola::customer::domain
