#include "customer-svc/domain/paging.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "libs/paging/page_token.h"

namespace kelola::customer::domain {

std::string EncodePageToken(absl::string_view kind, absl::string_view binding, int64_t offset) {
  return paging::EncodeToken(kind, "", binding, {absl::StrCat(offset)});
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token, absl::string_view kind,
                                        absl::string_view binding) {
  if (token.empty()) return 0;
  auto values = paging::DecodeToken(token, kind, "", binding);
  if (!values.ok()) return values.status();
  int64_t offset = 0;
  if (values->size() != 1 || !absl::SimpleAtoi((*values)[0], &offset) || offset < 0) {
    return paging::InvalidPageTokenError();  // signed by us: only if the format changed
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
