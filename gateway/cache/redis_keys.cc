#include "gateway/cache/redis_keys.h"

#include "absl/strings/str_cat.h"

namespace kelola::gateway {
namespace {

void AppendEscaped(std::string* out, absl::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : id) {
    if (c == ':' || c == '{' || c == '}' || c == '%') {
      const auto byte = static_cast<unsigned char>(c);
      out->push_back('%');
      out->push_back(kHex[byte >> 4]);
      out->push_back(kHex[byte & 0xF]);
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

void AppendCustomerKey(std::string* out, absl::string_view kind, absl::string_view tenant,
                       absl::string_view customer) {
  absl::StrAppend(out, "kelola:", kind, ":{");
  AppendEscaped(out, tenant);
  out->push_back(':');
  AppendEscaped(out, customer);
  out->push_back('}');
}

std::string CustomerKey(absl::string_view kind, absl::string_view tenant,
                        absl::string_view customer) {
  std::string key;
  key.reserve(kind.size() + tenant.size() + customer.size() + 12);
  AppendCustomerKey(&key, kind, tenant, customer);
  return key;
}

std::string TenantKey(absl::string_view kind, absl::string_view tenant) {
  std::string key;
  key.reserve(kind.size() + tenant.size() + 11);
  absl::StrAppend(&key, "kelola:", kind, ":{");
  AppendEscaped(&key, tenant);
  key.push_back('}');
  return key;
}

}  // namespace kelola::gateway
