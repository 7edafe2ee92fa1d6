#include "customer-svc/app/import_rows.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "customer-svc/app/customer_columns.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/csv/neutralize.h"
#include "libs/errors/errors.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::customer::app {
namespace {

using v1::Customer;
using v1::CustomerColumn;

bool MultiValued(CustomerColumn c) { return c == v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES; }

// Cell text: our own export's apostrophe removed, spaces trimmed.
absl::string_view Clean(absl::string_view cell) {
  return absl::StripAsciiWhitespace(csv::StripNeutralization(absl::StripAsciiWhitespace(cell)));
}

// YYYY-MM-DD, --MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD/MM; Buddhist-era years
// (above 2400) lose 543. Range checks are NormalizeCustomer's.
std::optional<type::v1::Date> ParseBirthday(absl::string_view text) {
  type::v1::Date d;
  std::vector<absl::string_view> parts;
  if (absl::StartsWith(text, "--")) {
    parts = absl::StrSplit(text.substr(2), '-');
    int m = 0, day = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &m) || !absl::SimpleAtoi(parts[1], &day)) {
      return std::nullopt;
    }
    d.set_month(m);
    d.set_day(day);
    return d;
  }
  parts = absl::StrSplit(text, absl::ByAnyChar("-/."));
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  int a = 0, b = 0, c = 0;
  if (!absl::SimpleAtoi(parts[0], &a) || !absl::SimpleAtoi(parts[1], &b)) return std::nullopt;
  if (parts.size() == 3 && !absl::SimpleAtoi(parts[2], &c)) return std::nullopt;
  if (parts.size() == 3 && parts[0].size() == 4) {  // ISO
    d.set_year(a);
    d.set_month(b);
    d.set_day(c);
  } else {
    d.set_day(a);
    d.set_month(b);
    d.set_year(c);
  }
  if (d.year() > 2400) d.set_year(d.year() - 543);
  if (a <= 0 || b <= 0) return std::nullopt;
  return d;
}

std::optional<bool> ParseYesNo(absl::string_view text) {
  const std::string v = absl::AsciiStrToLower(text);
  for (const char* yes : {"yes", "ya", "y", "true", "1", "ใช่", "granted"}) {
    if (v == yes) return true;
  }
  for (const char* no : {"no", "tidak", "n", "false", "0", "ไม่", "ไม่ใช่", "withdrawn"}) {
    if (v == no) return false;
  }
  return std::nullopt;
}

std::optional<v1::ContactChannel> ParseChannel(absl::string_view text) {
  std::string v = absl::AsciiStrToUpper(text);
  for (char& ch : v) {
    if (ch == ' ' || ch == '-') ch = '_';
  }
  v1::ContactChannel out;
  if (v1::ContactChannel_Parse(v, &out) && out != v1::CONTACT_CHANNEL_UNSPECIFIED) return out;
  if (v1::ContactChannel_Parse(absl::StrCat("CONTACT_CHANNEL_", v), &out) &&
      out != v1::CONTACT_CHANNEL_UNSPECIFIED) {
    return out;
  }
  if (v == "WA") return v1::CONTACT_CHANNEL_WHATSAPP;
  return std::nullopt;
}

// Which column a NormalizeCustomer violation is about, and its reason.
std::pair<CustomerColumn, std::string> ClassifyViolation(const std::string& field,
                                                         const std::string& description) {
  auto starts = [&](absl::string_view p) { return absl::StartsWith(field, p); };
  const bool too_long =
      absl::StrContains(description, "at most") || absl::StrContains(description, "long");
  const std::string generic = too_long ? "VALUE_TOO_LONG" : "INVALID_VALUE";
  if (starts("customer.display_name")) return {v1::CUSTOMER_COLUMN_DISPLAY_NAME, generic};
  if (starts("customer.phone")) return {v1::CUSTOMER_COLUMN_PHONE, "INVALID_PHONE"};
  if (field == "customer.additional_phones") {
    return {v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES, "TOO_MANY_PHONES"};
  }
  if (starts("customer.additional_phones")) {
    return {v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES, "INVALID_PHONE"};
  }
  if (starts("customer.email")) {
    return {v1::CUSTOMER_COLUMN_EMAIL, too_long ? "VALUE_TOO_LONG" : "INVALID_EMAIL"};
  }
  if (starts("customer.address.city")) return {v1::CUSTOMER_COLUMN_CITY, generic};
  if (starts("customer.address.province")) return {v1::CUSTOMER_COLUMN_PROVINCE, generic};
  if (starts("customer.address.postal_code")) return {v1::CUSTOMER_COLUMN_POSTAL_CODE, generic};
  if (starts("customer.address")) return {v1::CUSTOMER_COLUMN_ADDRESS, generic};
  if (starts("customer.company_name")) return {v1::CUSTOMER_COLUMN_COMPANY_NAME, generic};
  if (starts("customer.notes")) return {v1::CUSTOMER_COLUMN_NOTES, generic};
  if (starts("customer.birthday")) return {v1::CUSTOMER_COLUMN_BIRTHDAY, "INVALID_BIRTHDAY"};
  if (starts("customer.preferences.favourite_products")) {
    return {v1::CUSTOMER_COLUMN_FAVOURITE_PRODUCTS, generic};
  }
  if (starts("customer.preferences.special_needs")) {
    return {v1::CUSTOMER_COLUMN_SPECIAL_NEEDS, generic};
  }
  if (starts("customer.preferences")) return {v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL, generic};
  if (starts("customer.marketing_consent")) {
    return {v1::CUSTOMER_COLUMN_MARKETING_CONSENT, generic};
  }
  return {v1::CUSTOMER_COLUMN_UNSPECIFIED, generic};
}

}  // namespace

absl::StatusOr<Mapping> MapColumns(const std::vector<std::string>& header,
                                   const v1::ImportCustomersHeader& options) {
  errors::FieldErrors bad;
  absl::flat_hash_map<std::string, CustomerColumn> explicit_fields;
  for (int i = 0; i < options.column_mappings_size(); ++i) {
    const auto& m = options.column_mappings(i);
    const std::string field = absl::StrCat("header.column_mappings[", i, "]");
    const ColumnInfo* info = FindColumn(m.field());
    if (m.field() != v1::CUSTOMER_COLUMN_IGNORE && (info == nullptr || !info->importable)) {
      bad.Add(absl::StrCat(field, ".field"), "not an importable column");
    }
    std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(m.column()));
    bool found = false;
    for (const auto& h : header) {
      if (absl::AsciiStrToLower(absl::StripAsciiWhitespace(h)) == key) found = true;
    }
    if (!found) bad.Add(absl::StrCat(field, ".column"), "no such column in the file's header");
    explicit_fields[key] = m.field();
  }
  Mapping out;
  out.headers = header;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    CustomerColumn field = v1::CUSTOMER_COLUMN_IGNORE;
    if (auto it = explicit_fields.find(key); it != explicit_fields.end()) {
      field = it->second;
    } else if (!key.empty()) {
      CustomerColumn known = ColumnForHeader(header[i]);
      const ColumnInfo* info = FindColumn(known);
      if (info != nullptr && info->importable) field = known;  // export-only: ignored
    }
    if (field != v1::CUSTOMER_COLUMN_IGNORE) {
      auto [it, inserted] = out.first.emplace(static_cast<int>(field), i);
      if (!inserted && !MultiValued(field)) {
        bad.Add(absl::StrCat("header[", i, "]"),
                absl::StrCat("column \"", header[i], "\" maps to ", v1::CustomerColumn_Name(field),
                             " like column \"", header[it->second], "\""));
      }
    }
    out.fields.push_back(field);
  }
  if (!out.first.contains(v1::CUSTOMER_COLUMN_DISPLAY_NAME)) {
    bad.Add("header.column_mappings",
            "no column maps to DISPLAY_NAME (e.g. a header \"Nama\", \"Name\" or \"ชื่อ\")");
  }
  if (!bad.empty()) return bad.ToStatus();
  return out;
}

v1::ImportRowError RowError(const Mapping& mapping, CustomerColumn field, std::string reason,
                            std::string message) {
  v1::ImportRowError e;
  e.set_field(field);
  if (auto it = mapping.first.find(static_cast<int>(field)); it != mapping.first.end()) {
    e.set_column(mapping.headers[it->second]);
  }
  e.set_reason(std::move(reason));
  e.set_message(std::move(message));
  return e;
}

void PreparedRow::AddError(const Mapping& mapping, CustomerColumn field, std::string reason,
                           std::string message, size_t at) {
  errors.insert(errors.begin() + std::min(at, errors.size()),
                RowError(mapping, field, std::move(reason), std::move(message)));
}

std::vector<std::string> RowPreparer::Cells(const Row& row, CustomerColumn field) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < mapping_.fields.size(); ++i) {
    if (mapping_.fields[i] != field || i >= row.fields.size()) continue;
    absl::string_view v = Clean(row.fields[i]);
    if (!v.empty()) out.emplace_back(v);
  }
  return out;
}

std::string RowPreparer::Cell(const Row& row, CustomerColumn field) const {
  auto it = mapping_.first.find(static_cast<int>(field));
  if (it == mapping_.first.end() || it->second >= row.fields.size()) return "";
  return std::string(Clean(row.fields[it->second]));
}

PreparedRow RowPreparer::Prepare(const Row& row, absl::Time now) const {
  PreparedRow out;
  out.line = row.line;
  auto add_error = [&](CustomerColumn field, std::string reason, std::string message) {
    out.AddError(mapping_, field, std::move(reason), std::move(message));
  };
  // 1. The row as a client's customer.
  Customer input;
  const std::string name = Cell(row, v1::CUSTOMER_COLUMN_DISPLAY_NAME);
  if (name.empty())
    add_error(v1::CUSTOMER_COLUMN_DISPLAY_NAME, "MISSING_NAME", "the name is empty");
  input.set_display_name(name);
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_PHONE); !v.empty()) {
    input.mutable_phone()->set_raw(v);
  }
  for (const auto& cell : Cells(row, v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES)) {
    for (absl::string_view p : absl::StrSplit(cell, absl::ByAnyChar(";,/"))) {
      p = absl::StripAsciiWhitespace(p);
      if (!p.empty()) input.add_additional_phones()->set_raw(std::string(p));
    }
  }
  input.set_email(Cell(row, v1::CUSTOMER_COLUMN_EMAIL));
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_ADDRESS); !v.empty()) {
    input.mutable_address()->set_text(v);
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_CITY); !v.empty()) {
    input.mutable_address()->set_city(v);
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_PROVINCE); !v.empty()) {
    input.mutable_address()->set_province(v);
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_POSTAL_CODE); !v.empty()) {
    input.mutable_address()->set_postal_code(v);
  }
  input.set_company_name(Cell(row, v1::CUSTOMER_COLUMN_COMPANY_NAME));
  input.set_notes(Cell(row, v1::CUSTOMER_COLUMN_NOTES));
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_BIRTHDAY); !v.empty()) {
    auto date = ParseBirthday(v);
    if (!date.has_value()) {
      add_error(v1::CUSTOMER_COLUMN_BIRTHDAY, "INVALID_BIRTHDAY",
                absl::StrCat("birthday '", v,
                             "' is not a date (YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or DD/MM)"));
    } else {
      *input.mutable_birthday() = *date;
    }
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_FAVOURITE_PRODUCTS); !v.empty()) {
    for (absl::string_view p : absl::StrSplit(v, ';')) {
      p = absl::StripAsciiWhitespace(p);
      if (!p.empty()) input.mutable_preferences()->add_favourite_products(std::string(p));
    }
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_SPECIAL_NEEDS); !v.empty()) {
    input.mutable_preferences()->set_special_needs(v);
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL); !v.empty()) {
    auto channel = ParseChannel(v);
    if (!channel.has_value()) {
      add_error(v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL, "INVALID_VALUE",
                absl::StrCat("unknown contact channel '", v, "' (WHATSAPP, LINE, SMS, ...)"));
    } else {
      input.mutable_preferences()->set_preferred_channel(*channel);
    }
  }
  if (auto v = Cell(row, v1::CUSTOMER_COLUMN_MARKETING_CONSENT); !v.empty()) {
    const std::optional<bool> consent = ParseYesNo(v);
    if (!consent.has_value()) {
      add_error(v1::CUSTOMER_COLUMN_MARKETING_CONSENT, "INVALID_VALUE",
                absl::StrCat("'", v, "' is neither yes (ya, ใช่, 1) nor no (tidak, ไม่, 0)"));
    } else {
      input.mutable_marketing_consent()->set_state(
          *consent ? v1::MARKETING_CONSENT_STATE_GRANTED : v1::MARKETING_CONSENT_STATE_WITHDRAWN);
      input.mutable_marketing_consent()->set_source("csv_import");
      out.sets_consent = true;
    }
  }
  out.given_id = Cell(row, v1::CUSTOMER_COLUMN_CUSTOMER_ID);
  out.category_cell = Cell(row, v1::CUSTOMER_COLUMN_CATEGORY);
  input.set_customer_id(out.given_id);
  input.set_category_id(out.category_cell);
  // The fingerprint of the row's content (before time-dependent values).
  out.fingerprint = idempotency::Fingerprint(input);
  input.clear_customer_id();
  input.clear_category_id();
  // The write stamps its own time on the consent (RowApplier).
  if (out.sets_consent) *input.mutable_marketing_consent()->mutable_consent_time() = ToProto(now);
  out.category_error_at = out.errors.size();

  // 2. Validation, as CreateCustomer does it (the category is resolved by the write).
  const domain::ValidationContext vc{settings_.default_phone_region(), now, tz_};
  errors::FieldErrors violations;
  out.normalized =
      domain::NormalizeCustomer(input, vc, phones_, {true, true}, "customer", violations);
  for (const auto& v : violations.violations()) {
    if (name.empty() && absl::StartsWith(v.field, "customer.display_name")) continue;
    if (!out.category_cell.empty() && absl::StartsWith(v.field, "customer.category_id")) continue;
    auto [field, reason] = ClassifyViolation(v.field, v.description);
    add_error(field, reason, v.description);
  }
  return out;
}

}  // namespace kelola::customer::app
