#include "customer-svc/domain/customer_rules.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/ids/ids.h"
#include "libs/request_id/request_id.h"
#include "libs/text/email.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::domain {
namespace {

using v1::Customer;

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

std::string Describe(const absl::Status& status) { return std::string(status.message()); }

// Normalizes a single-line optional text field, recording a violation.
std::string OptionalField(absl::string_view value, size_t max, const std::string& field,
                          errors::FieldErrors& errors) {
  auto result = OptionalName(value, max);
  if (!result.ok()) {
    errors.Add(field, Describe(result.status()));
    return "";
  }
  return *result;
}

std::string FreeTextField(absl::string_view value, size_t max, const std::string& field,
                          errors::FieldErrors& errors) {
  auto result = FreeText(value, max);
  if (!result.ok()) {
    errors.Add(field, Describe(result.status()));
    return "";
  }
  return *result;
}

v1::Phone NormalizePhone(const v1::Phone& input, const ValidationContext& context,
                         const phone::PhoneNormalizer& phones, bool renormalize,
                         const std::string& field, errors::FieldErrors& errors) {
  v1::Phone out;
  auto raw = OptionalName(input.raw(), kMaxPhoneRawChars);
  if (!raw.ok()) {
    errors.Add(Path(field, "raw"), Describe(raw.status()));
  } else if (raw->empty()) {
    errors.Add(Path(field, "raw"), "a phone needs its number");
  } else {
    out.set_raw(*raw);
    if (!renormalize && !input.e164().empty()) {
      out.set_e164(input.e164());
    } else {
      auto normalized = phones.Normalize(*raw, context.phone_region);
      if (!normalized.ok()) {
        errors.Add(Path(field, "raw"), Describe(normalized.status()));
      } else {
        out.set_e164(normalized->e164);
      }
    }
  }
  out.set_label(OptionalField(input.label(), kMaxPhoneLabelChars, Path(field, "label"), errors));
  return out;
}

bool IsUpperAlpha2(absl::string_view code) {
  return code.size() == 2 && absl::ascii_isupper(code[0]) && absl::ascii_isupper(code[1]);
}

}  // namespace

absl::StatusOr<std::string> FreeText(absl::string_view text, size_t max_chars) {
  const std::string_view view(text.data(), text.size());
  if (!text::IsValidUtf8(view)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, text::kReasonTextInvalidUtf8,
                         "not valid UTF-8");
  }
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f) {
      return errors::Error(absl::StatusCode::kInvalidArgument, text::kReasonTextControlCharacter,
                           "contains a control character");
    }
  }
  std::string nfc = text::Nfc(view);
  absl::string_view trimmed = absl::StripAsciiWhitespace(nfc);
  if (text::CodePointCount(std::string_view(trimmed.data(), trimmed.size())) > max_chars) {
    return errors::Error(absl::StatusCode::kInvalidArgument, text::kReasonTextTooLong,
                         absl::StrCat("longer than ", max_chars, " characters"));
  }
  return std::string(trimmed);
}

absl::StatusOr<std::string> OptionalName(absl::string_view text, size_t max_chars) {
  if (absl::StripAsciiWhitespace(text).empty()) return std::string();
  return text::TrimmedName(std::string_view(text.data(), text.size()), max_chars);
}

v1::Customer NormalizeCustomer(const v1::Customer& input, const ValidationContext& context,
                               const phone::PhoneNormalizer& phones, const ValidationScope& scope,
                               absl::string_view prefix, errors::FieldErrors& errors) {
  Customer out;
  // Name: required, 1-200 characters after trimming.
  auto name =
      text::TrimmedName(std::string_view(input.display_name().data(), input.display_name().size()),
                        kMaxDisplayNameChars);
  if (!name.ok()) {
    errors.Add(Path(prefix, "display_name"), Describe(name.status()));
  } else {
    out.set_display_name(*name);
  }

  // Phones (I1, C8): primary plus at most 10 more, no repeats by E.164.
  std::set<std::string> seen;
  if (input.has_phone() && !(input.phone().raw().empty() && input.phone().label().empty())) {
    *out.mutable_phone() =
        NormalizePhone(input.phone(), context, phones, scope.phones, Path(prefix, "phone"), errors);
    if (!out.phone().e164().empty()) seen.insert(out.phone().e164());
  }
  if (input.additional_phones_size() > kMaxAdditionalPhones) {
    errors.Add(Path(prefix, "additional_phones"),
               absl::StrCat("at most ", kMaxAdditionalPhones, " additional phones"));
  } else {
    for (int i = 0; i < input.additional_phones_size(); ++i) {
      const std::string field = absl::StrCat(Path(prefix, "additional_phones"), "[", i, "]");
      v1::Phone p =
          NormalizePhone(input.additional_phones(i), context, phones, scope.phones, field, errors);
      if (!p.e164().empty() && !seen.insert(p.e164()).second) {
        errors.Add(field, absl::StrCat("repeats another phone of the customer (", p.e164(), ")"));
      }
      *out.add_additional_phones() = std::move(p);
    }
  }

  // E-mail: syntax, stored normalized (lower case).
  if (!absl::StripAsciiWhitespace(input.email()).empty()) {
    const std::string email =
        text::NormalizeEmail(std::string_view(input.email().data(), input.email().size()));
    if (email.size() > kMaxEmailChars || !text::IsValidEmail(email)) {
      errors.Add(Path(prefix, "email"), "not a valid e-mail address");
    } else {
      out.set_email(email);
    }
  }

  // Address.
  if (input.has_address()) {
    const std::string field = Path(prefix, "address");
    v1::Address a;
    a.set_text(
        FreeTextField(input.address().text(), kMaxAddressTextChars, Path(field, "text"), errors));
    a.set_city(
        OptionalField(input.address().city(), kMaxAddressPartChars, Path(field, "city"), errors));
    a.set_province(OptionalField(input.address().province(), kMaxAddressPartChars,
                                 Path(field, "province"), errors));
    a.set_postal_code(OptionalField(input.address().postal_code(), kMaxPostalCodeChars,
                                    Path(field, "postal_code"), errors));
    const std::string region = absl::AsciiStrToUpper(input.address().region_code());
    if (!region.empty() && !IsUpperAlpha2(region)) {
      errors.Add(Path(field, "region_code"), "an ISO 3166-1 alpha-2 code such as ID or TH");
    } else {
      a.set_region_code(region);
    }
    if (a.ByteSizeLong() > 0) *out.mutable_address() = std::move(a);
  }

  out.set_company_name(OptionalField(input.company_name(), kMaxCompanyNameChars,
                                     Path(prefix, "company_name"), errors));
  out.set_category_id(input.category_id());  // existence is checked by the store
  out.set_notes(FreeTextField(input.notes(), kMaxNotesChars, Path(prefix, "notes"), errors));

  // Preferences (C18).
  if (input.has_preferences()) {
    const std::string field = Path(prefix, "preferences");
    v1::Preferences p;
    if (input.preferences().favourite_products_size() > kMaxFavouriteProducts) {
      errors.Add(Path(field, "favourite_products"),
                 absl::StrCat("at most ", kMaxFavouriteProducts, " entries"));
    } else {
      for (int i = 0; i < input.preferences().favourite_products_size(); ++i) {
        const std::string f = absl::StrCat(Path(field, "favourite_products"), "[", i, "]");
        auto v =
            text::TrimmedName(input.preferences().favourite_products(i), kMaxFavouriteProductChars);
        if (!v.ok()) {
          errors.Add(f, Describe(v.status()));
        } else {
          p.add_favourite_products(*v);
        }
      }
    }
    p.set_special_needs(FreeTextField(input.preferences().special_needs(), kMaxSpecialNeedsChars,
                                      Path(field, "special_needs"), errors));
    if (!v1::ContactChannel_IsValid(input.preferences().preferred_channel())) {
      errors.Add(Path(field, "preferred_channel"), "unknown contact channel");
    } else {
      p.set_preferred_channel(input.preferences().preferred_channel());
    }
    if (p.ByteSizeLong() > 0) *out.mutable_preferences() = std::move(p);
  }

  // Birthday: a valid date, year 0 when unknown, not in the future.
  if (input.has_birthday() && (input.birthday().year() != 0 || input.birthday().month() != 0 ||
                               input.birthday().day() != 0)) {
    const auto& b = input.birthday();
    const std::string field = Path(prefix, "birthday");
    const int year_for_check = b.year() == 0 ? 2000 : b.year();  // 2000 is a leap year
    const absl::CivilDay today = absl::ToCivilDay(context.now, context.time_zone);
    if (b.month() < 1 || b.month() > 12 || b.day() < 1 || b.day() > 31 ||
        (b.year() != 0 && (b.year() < 1900 || b.year() > 9999))) {
      errors.Add(field, "not a valid date (year 0 or 1900 and later, month 1-12, day 1-31)");
    } else {
      const absl::CivilDay day(year_for_check, b.month(), b.day());
      if (day.month() != b.month() || day.day() != b.day()) {
        errors.Add(field, "not a valid date");
      } else if (b.year() != 0 && day > today) {
        errors.Add(field, "in the future");
      } else {
        *out.mutable_birthday() = b;
      }
    }
  }

  // Initial marketing consent (create only).
  if (scope.marketing_consent && input.has_marketing_consent() &&
      input.marketing_consent().state() != v1::MARKETING_CONSENT_STATE_UNSPECIFIED) {
    const std::string field = Path(prefix, "marketing_consent");
    const auto& c = input.marketing_consent();
    v1::MarketingConsent mc;
    if (!v1::MarketingConsentState_IsValid(c.state())) {
      errors.Add(Path(field, "state"), "unknown consent state");
    }
    mc.set_state(c.state());
    auto source = text::TrimmedName(c.source(), kMaxConsentSourceChars);
    if (!source.ok()) {
      errors.Add(Path(field, "source"), Describe(source.status()));
    } else {
      mc.set_source(*source);
    }
    absl::Time when = context.now;
    if (c.has_consent_time()) {
      auto given = time::FromTimestamp(c.consent_time(), Path(field, "consent_time"));
      if (!given.ok()) {
        errors.Merge("", given.status());
      } else if (*given > context.now + absl::Minutes(5)) {
        errors.Add(Path(field, "consent_time"), "in the future");
      } else {
        when = *given;
      }
    }
    *mc.mutable_consent_time() = time::ToTimestamp(when);
    *out.mutable_marketing_consent() = std::move(mc);
  }
  return out;
}

absl::Status ToValidationStatus(const errors::FieldErrors& errors) {
  if (errors.empty()) return absl::OkStatus();
  bool all_phones = true;
  for (const auto& v : errors.violations()) {
    if (v.field.find("phone") == std::string::npos) all_phones = false;
  }
  return errors.ToStatus(all_phones ? "INVALID_PHONE" : "INVALID_ARGUMENT");
}

const std::vector<std::string>& UpdatablePaths() {
  static const auto* paths = new std::vector<std::string>{"display_name",
                                                          "phone",
                                                          "additional_phones",
                                                          "email",
                                                          "address",
                                                          "address.text",
                                                          "address.city",
                                                          "address.province",
                                                          "address.postal_code",
                                                          "address.region_code",
                                                          "company_name",
                                                          "category_id",
                                                          "notes",
                                                          "preferences",
                                                          "preferences.favourite_products",
                                                          "preferences.special_needs",
                                                          "preferences.preferred_channel",
                                                          "birthday"};
  return *paths;
}

absl::StatusOr<v1::Customer> ApplyUpdateMask(const v1::Customer& current, const v1::Customer& patch,
                                             const google::protobuf::FieldMask& mask) {
  std::vector<std::string> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty() || (paths.size() == 1 && paths[0] == "*")) {
    paths = {"display_name", "phone", "additional_phones", "email",   "address", "company_name",
             "category_id",  "notes", "preferences",       "birthday"};
  }
  errors::FieldErrors bad;
  Customer out = current;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (p == "display_name") {
      out.set_display_name(patch.display_name());
    } else if (p == "phone") {
      if (patch.has_phone()) {
        *out.mutable_phone() = patch.phone();
      } else {
        out.clear_phone();
      }
    } else if (p == "additional_phones") {
      *out.mutable_additional_phones() = patch.additional_phones();
    } else if (p == "email") {
      out.set_email(patch.email());
    } else if (p == "address") {
      if (patch.has_address()) {
        *out.mutable_address() = patch.address();
      } else {
        out.clear_address();
      }
    } else if (p == "address.text") {
      out.mutable_address()->set_text(patch.address().text());
    } else if (p == "address.city") {
      out.mutable_address()->set_city(patch.address().city());
    } else if (p == "address.province") {
      out.mutable_address()->set_province(patch.address().province());
    } else if (p == "address.postal_code") {
      out.mutable_address()->set_postal_code(patch.address().postal_code());
    } else if (p == "address.region_code") {
      out.mutable_address()->set_region_code(patch.address().region_code());
    } else if (p == "company_name") {
      out.set_company_name(patch.company_name());
    } else if (p == "category_id") {
      out.set_category_id(patch.category_id());
    } else if (p == "notes") {
      out.set_notes(patch.notes());
    } else if (p == "preferences") {
      if (patch.has_preferences()) {
        *out.mutable_preferences() = patch.preferences();
      } else {
        out.clear_preferences();
      }
    } else if (p == "preferences.favourite_products") {
      *out.mutable_preferences()->mutable_favourite_products() =
          patch.preferences().favourite_products();
    } else if (p == "preferences.special_needs") {
      out.mutable_preferences()->set_special_needs(patch.preferences().special_needs());
    } else if (p == "preferences.preferred_channel") {
      out.mutable_preferences()->set_preferred_channel(patch.preferences().preferred_channel());
    } else if (p == "birthday") {
      if (patch.has_birthday()) {
        *out.mutable_birthday() = patch.birthday();
      } else {
        out.clear_birthday();
      }
    } else {
      bad.Add(absl::StrCat("update_mask.paths[", i, "]"),
              absl::StrCat("\"", p,
                           "\" is not an updatable field (use SetMarketingConsent, "
                           "ArchiveCustomer or RestoreCustomer for consent and state)"));
    }
  }
  if (!bad.empty()) return bad.ToStatus("INVALID_UPDATE_MASK");
  return out;
}

bool MaskTouchesPhones(const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) return true;
  for (const auto& p : mask.paths()) {
    if (p == "*" || p == "phone" || p == "additional_phones") return true;
  }
  return false;
}

std::vector<std::string> ChangedPaths(const v1::Customer& before, const v1::Customer& after) {
  using google::protobuf::util::MessageDifferencer;
  std::vector<std::string> changed;
  const auto* descriptor = Customer::descriptor();
  for (const char* name :
       {"display_name", "phone", "additional_phones", "email", "address", "company_name",
        "category_id", "notes", "preferences", "birthday", "marketing_consent"}) {
    const auto* field = descriptor->FindFieldByName(name);
    MessageDifferencer differencer;
    std::vector<const google::protobuf::FieldDescriptor*> fields = {field};
    if (!differencer.CompareWithFields(before, after, fields, fields)) changed.push_back(name);
  }
  return changed;
}

v1::Customer Anonymized(const v1::Customer& customer) {
  Customer out;
  out.set_customer_id(customer.customer_id());
  out.set_category_id(customer.category_id());
  out.set_state(customer.state());
  *out.mutable_create_time() = customer.create_time();
  return out;
}

std::string EtagFor(int64_t version) { return absl::StrCat("v", version); }

absl::Status CheckEtag(absl::string_view given, int64_t current_version) {
  if (given.empty() || given == EtagFor(current_version)) return absl::OkStatus();
  return errors::Error(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                       "the resource changed since it was read: read it again and retry",
                       {{"current_etag", EtagFor(current_version)}});
}

absl::StatusOr<std::string> NormalizeCustomerId(absl::string_view id) {
  return ids::NormalizeId(std::string_view(id.data(), id.size()));
}

absl::Status ValidateRequestId(absl::string_view id) {
  std::string problem = request_id::Problem(id, request_id::Presence::kOptional);
  return problem.empty() ? absl::OkStatus() : absl::InvalidArgumentError(problem);
}

}  // namespace kelola::customer::domain
