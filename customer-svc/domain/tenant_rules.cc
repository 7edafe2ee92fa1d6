#include "customer-svc/domain/tenant_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {

v1::TenantSettings DefaultTenantSettings(absl::string_view tenant_id) {
  v1::TenantSettings s;
  s.set_tenant_id(std::string(tenant_id));
  s.set_default_phone_region("ID");
  s.set_currency_code("IDR");
  s.set_time_zone("Asia/Jakarta");
  s.set_language_code("id");
  s.set_customer_limit(0);
  return s;
}

absl::Status ValidateTenantSettings(const v1::TenantSettings& s) {
  errors::FieldErrors errors;
  if (s.default_phone_region() != "ID" && s.default_phone_region() != "TH") {
    errors.Add("settings.default_phone_region", "must be \"ID\" or \"TH\"");
  }
  if (s.currency_code() != "IDR" && s.currency_code() != "THB") {
    errors.Add("settings.currency_code", "must be \"IDR\" or \"THB\"");
  }
  absl::TimeZone tz;
  if (s.time_zone().empty() || !absl::LoadTimeZone(s.time_zone(), &tz)) {
    errors.Add("settings.time_zone", "not a known IANA time zone such as Asia/Jakarta");
  }
  if (s.language_code() != "id" && s.language_code() != "th" && s.language_code() != "en") {
    errors.Add("settings.language_code", "must be \"id\", \"th\" or \"en\"");
  }
  if (s.customer_limit() < 0) errors.Add("settings.customer_limit", "must be 0 or more");
  return errors.ToStatus();
}

absl::StatusOr<v1::TenantSettings> ApplySettingsMask(const v1::TenantSettings& current,
                                                     const v1::TenantSettings& patch,
                                                     const std::vector<std::string>& given) {
  std::vector<std::string> paths = given;
  if (paths.empty() || (paths.size() == 1 && paths[0] == "*")) {
    paths = {"default_phone_region", "currency_code", "time_zone", "language_code",
             "customer_limit"};
  }
  v1::TenantSettings out = current;
  errors::FieldErrors bad;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (p == "default_phone_region") {
      out.set_default_phone_region(absl::AsciiStrToUpper(patch.default_phone_region()));
    } else if (p == "currency_code") {
      out.set_currency_code(patch.currency_code());
    } else if (p == "time_zone") {
      out.set_time_zone(patch.time_zone());
    } else if (p == "language_code") {
      out.set_language_code(patch.language_code());
    } else if (p == "customer_limit") {
      out.set_customer_limit(patch.customer_limit());
    } else {
      bad.Add(absl::StrCat("update_mask.paths[", i, "]"),
              absl::StrCat("\"", p, "\" is not an updatable setting"));
    }
  }
  if (!bad.empty()) return bad.ToStatus("INVALID_UPDATE_MASK");
  return out;
}

std::string CollationLocale(absl::string_view phone_region) {
  return phone_region == "TH" ? "th" : "id";
}

const std::vector<DefaultCategory>& DefaultCategories() {
  static const auto* categories = new std::vector<DefaultCategory>{{"retail", "Retail"},
                                                                   {"wholesale", "Wholesale"},
                                                                   {"vip", "VIP"},
                                                                   {"corporate", "Corporate"},
                                                                   {"member", "Member"}};
  return *categories;
}

bool IsValidCategoryId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace kelola::customer::domain
