#include "customer-svc/domain/list_page_token.h"

namespace kelola::customer::domain {

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
  return paging::EncodeToken(kind, tenant, binding, values);
}

absl::StatusOr<std::vector<std::string>> DecodeKeysetToken(absl::string_view token,
                                                           absl::string_view kind,
                                                           absl::string_view tenant,
                                                           absl::string_view binding) {
  return paging::DecodeToken(token, kind, tenant, binding);
}

}  // namespace kelola::customer::domain
