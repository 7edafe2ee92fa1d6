#include "customer-svc/domain/paging.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

std::string BindingHash(absl::string_view binding) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : binding) h = (h ^ c) * 1099511628211ULL;
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

absl::Status TokenError(absl::string_view reason, absl::string_view description) {
  return errors::Error(absl::StatusCode::kInvalidArgument, reason, description, {},
                       {{"page_token", std::string(description)}});
}

}  // namespace

std::string EncodePageToken(absl::string_view kind, absl::string_view binding, int64_t offset) {
  return absl::WebSafeBase64Escape(absl::StrCat(kind, "|", BindingHash(binding), "|", offset));
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token, absl::string_view kind,
                                        absl::string_view binding) {
  if (token.empty()) return 0;
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return TokenError("PAGE_TOKEN_INVALID", "not a page token of this list");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, '|');
  int64_t offset = 0;
  if (parts.size() != 3 || parts[0] != kind || !absl::SimpleAtoi(parts[2], &offset) || offset < 0) {
    return TokenError("PAGE_TOKEN_INVALID", "not a page token of this list");
  }
  if (parts[1] != BindingHash(binding)) {
    return TokenError("PAGE_TOKEN_MISMATCH",
                      "the page token belongs to a listing with other parameters");
  }
  return offset;
}

absl::StatusOr<int> EffectivePageSize(int page_size, int default_size, int max_size) {
  if (page_size < 0) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "page_size must not be negative", {},
                         {{"page_size", "must not be negative"}});
  }
  if (page_size == 0) return default_size;
  return page_size > max_size ? max_size : page_size;
}

}  // namespace kelola::customer::domain
