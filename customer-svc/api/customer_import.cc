#include "customer-svc/api/customer_import.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "customer-svc/api/customer_columns.h"
#include "customer-svc/api/customer_writes.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/csv/header_map.h"
#include "libs/csv/neutralize.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"
#include "libs/idempotency/idempotency.h"
#include "libs/log/log.h"
#include "libs/server/request_context.h"
#include "libs/server/request_parsing.h"
#include "libs/text/normalize.h"

namespace kelola::customer::api {
namespace {

using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;
using v1::CustomerColumn;

// Fingerprints of imported rows (idempotency_keys scope): a row seen before finds the
// customer it created or matched, even without phone or e-mail.
constexpr char kRowScope[] = "ImportCustomers.row";

std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

absl::Status InvalidArgument(absl::string_view reason, absl::string_view message,
                             errors::Metadata metadata = {}) {
  return errors::Error(absl::StatusCode::kInvalidArgument, reason, message, metadata);
}

// The field of each column of the file.
struct Mapping {
  std::vector<std::string> headers;
  std::vector<CustomerColumn> fields;
  // The first column of each field.
  absl::flat_hash_map<int, size_t> first;
};

bool MultiValued(CustomerColumn c) { return c == v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES; }

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

struct Row {
  int64_t line = 0;
  std::vector<std::string> fields;
};

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

// The outcome of one row.
enum class Outcome { kCreated, kUpdated, kSkipped, kUnchanged, kFailed };

struct BatchResult {
  int created = 0, updated = 0, skipped = 0, unchanged = 0, failed = 0;
  std::vector<v1::ImportRowError> errors;
};

// Applies rows inside one DirectoryTx. Lives for one batch attempt.
class RowApplier {
 public:
  RowApplier(DirectoryTx& tx, const Mapping& mapping, const v1::ImportCustomersHeader& options,
             const phone::PhoneNormalizer& phones, ids::IdGenerator& ids, BatchResult& result)
      : tx_(tx),
        mapping_(mapping),
        options_(options),
        phones_(phones),
        ids_(ids),
        result_(result) {}

  absl::Status Begin() {
    auto settings = tx_.Settings();
    if (!settings.ok()) return settings.status();
    settings_ = settings->settings;
    auto tz = TenantZone(settings_);
    if (!tz.ok()) return tz.status();
    tz_ = *tz;
    // The default categories, before any row's savepoint (a failing row must not undo them).
    if (mapping_.first.contains(v1::CUSTOMER_COLUMN_CATEGORY)) {
      auto seeded = tx_.DefaultCategoriesSeeded();
      if (!seeded.ok()) return seeded.status();
      if (!*seeded) {
        if (auto s = tx_.EnsureDefaultCategories(); !s.ok()) return s;
      }
    }
    if (settings_.customer_limit() > 0) {
      auto count = tx_.CountLimitedCustomers(/*lock=*/true);
      if (!count.ok()) return count.status();
      limited_count_ = *count;
    }
    return absl::OkStatus();
  }

  // Applies one row in its own savepoint; a row problem is recorded, not returned.
  absl::Status Apply(const Row& row) {
    row_errors_.clear();
    Outcome outcome = Outcome::kFailed;
    std::string existing_id;
    absl::Status status =
        tx_.InSavepoint([&]() -> absl::Status { return ApplyRow(row, outcome, existing_id); });
    if (!status.ok()) {
      if (!IsRowProblem(status)) return status;
      if (row_errors_.empty()) AddStoreError(status);
      outcome = Outcome::kFailed;
    } else if (outcome == Outcome::kCreated && settings_.customer_limit() > 0) {
      ++limited_count_;
    }
    switch (outcome) {
      case Outcome::kCreated:
        ++result_.created;
        break;
      case Outcome::kUpdated:
        ++result_.updated;
        break;
      case Outcome::kUnchanged:
        ++result_.unchanged;
        break;
      case Outcome::kSkipped: {
        ++result_.skipped;
        v1::ImportRowError e;
        e.set_reason("CUSTOMER_DUPLICATE");
        e.set_message("the row matches an existing customer with other data; left as it is");
        e.set_outcome(v1::IMPORT_ROW_OUTCOME_SKIPPED);
        e.set_existing_customer_id(existing_id);
        row_errors_.push_back(std::move(e));
        break;
      }
      case Outcome::kFailed:
        ++result_.failed;
        break;
    }
    for (auto& e : row_errors_) {
      e.set_line(row.line);
      if (e.outcome() == v1::IMPORT_ROW_OUTCOME_UNSPECIFIED) {
        e.set_outcome(v1::IMPORT_ROW_OUTCOME_FAILED);
      }
      result_.errors.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

 private:
  static bool IsRowProblem(const absl::Status& s) {
    switch (s.code()) {
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kAlreadyExists:
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kNotFound:
        return true;
      default:
        return false;
    }
  }

  void AddError(CustomerColumn field, std::string reason, std::string message) {
    v1::ImportRowError e;
    e.set_field(field);
    if (auto it = mapping_.first.find(static_cast<int>(field)); it != mapping_.first.end()) {
      e.set_column(mapping_.headers[it->second]);
    }
    e.set_reason(std::move(reason));
    e.set_message(std::move(message));
    row_errors_.push_back(std::move(e));
  }

  void AddStoreError(const absl::Status& s) {
    std::string reason = errors::Reason(s);
    const auto metadata = errors::GetMetadata(s);
    CustomerColumn field = v1::CUSTOMER_COLUMN_UNSPECIFIED;
    if (reason == "CUSTOMER_DUPLICATE" || s.code() == absl::StatusCode::kAlreadyExists) {
      reason = "CUSTOMER_DUPLICATE";
      if (auto it = metadata.find("field"); it != metadata.end()) {
        field = absl::StrContains(it->second, "email") ? v1::CUSTOMER_COLUMN_EMAIL
                                                       : v1::CUSTOMER_COLUMN_PHONE;
      }
    }
    AddError(field, reason, std::string(s.message()));
    if (auto it = metadata.find("existing_customer_id"); it != metadata.end()) {
      row_errors_.back().set_existing_customer_id(it->second);
    }
  }

  std::vector<std::string> Cells(const Row& row, CustomerColumn field) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < mapping_.fields.size(); ++i) {
      if (mapping_.fields[i] != field || i >= row.fields.size()) continue;
      absl::string_view v = Clean(row.fields[i]);
      if (!v.empty()) out.emplace_back(v);
    }
    return out;
  }
  std::string Cell(const Row& row, CustomerColumn field) const {
    auto it = mapping_.first.find(static_cast<int>(field));
    if (it == mapping_.first.end() || it->second >= row.fields.size()) return "";
    return std::string(Clean(row.fields[it->second]));
  }

  // The category of a cell: a name (folded) or an id.
  absl::StatusOr<std::optional<std::string>> ResolveCategory(const std::string& text) {
    const std::string folded = text::FoldForMatch(Sv(text));
    if (auto it = categories_.find(folded); it != categories_.end()) return it->second;
    std::optional<std::string> id;
    auto by_name = tx_.FindCategoryByName(folded);
    if (!by_name.ok()) return by_name.status();
    if (by_name->has_value()) {
      id = (*by_name)->category.category_id();
    } else {
      auto by_id = tx_.FindCategory(text);
      if (!by_id.ok()) return by_id.status();
      if (by_id->has_value()) id = (*by_id)->category.category_id();
    }
    categories_[folded] = id;
    return id;
  }

  absl::Status ApplyRow(const Row& row, Outcome& outcome, std::string& existing_id) {
    outcome = Outcome::kFailed;
    // 1. The row as a client's customer.
    Customer input;
    const std::string name = Cell(row, v1::CUSTOMER_COLUMN_DISPLAY_NAME);
    if (name.empty()) {
      AddError(v1::CUSTOMER_COLUMN_DISPLAY_NAME, "MISSING_NAME", "the name is empty");
    }
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
        AddError(v1::CUSTOMER_COLUMN_BIRTHDAY, "INVALID_BIRTHDAY",
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
        AddError(v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL, "INVALID_VALUE",
                 absl::StrCat("unknown contact channel '", v, "' (WHATSAPP, LINE, SMS, ...)"));
      } else {
        input.mutable_preferences()->set_preferred_channel(*channel);
      }
    }
    std::optional<bool> consent;
    if (auto v = Cell(row, v1::CUSTOMER_COLUMN_MARKETING_CONSENT); !v.empty()) {
      consent = ParseYesNo(v);
      if (!consent.has_value()) {
        AddError(v1::CUSTOMER_COLUMN_MARKETING_CONSENT, "INVALID_VALUE",
                 absl::StrCat("'", v, "' is neither yes (ya, ใช่, 1) nor no (tidak, ไม่, 0)"));
      } else {
        input.mutable_marketing_consent()->set_state(
            *consent ? v1::MARKETING_CONSENT_STATE_GRANTED : v1::MARKETING_CONSENT_STATE_WITHDRAWN);
        input.mutable_marketing_consent()->set_source("csv_import");
      }
    }
    const std::string given_id = Cell(row, v1::CUSTOMER_COLUMN_CUSTOMER_ID);
    std::string category_cell = Cell(row, v1::CUSTOMER_COLUMN_CATEGORY);
    input.set_customer_id(given_id);
    input.set_category_id(category_cell);
    // The fingerprint of the row's content (before time-dependent values).
    const std::string fingerprint = idempotency::Fingerprint(input);
    input.clear_customer_id();
    input.clear_category_id();
    if (consent.has_value())
      *input.mutable_marketing_consent()->mutable_consent_time() = ToProto(tx_.now());

    if (!category_cell.empty()) {
      auto category = ResolveCategory(category_cell);
      if (!category.ok()) return category.status();
      if (!category->has_value()) {
        AddError(v1::CUSTOMER_COLUMN_CATEGORY, "UNKNOWN_CATEGORY",
                 absl::StrCat("no category named '", category_cell, "'"));
      } else {
        input.set_category_id(**category);
      }
    }

    // 2. Validation, as CreateCustomer does it.
    const domain::ValidationContext vc{settings_.default_phone_region(), tx_.now(), tz_};
    errors::FieldErrors violations;
    Customer normalized =
        domain::NormalizeCustomer(input, vc, phones_, {true, true}, "customer", violations);
    for (const auto& v : violations.violations()) {
      if (name.empty() && absl::StartsWith(v.field, "customer.display_name")) continue;
      if (!category_cell.empty() && absl::StartsWith(v.field, "customer.category_id")) continue;
      auto [field, reason] = ClassifyViolation(v.field, v.description);
      AddError(field, reason, v.description);
    }
    if (!row_errors_.empty()) return InvalidArgument("INVALID_ROW", "the row is invalid");

    // 3. Which customer the row is about.
    std::optional<StoredCustomer> match;
    std::string id_for_create;
    if (!given_id.empty()) {
      auto id = domain::NormalizeCustomerId(given_id);
      if (!id.ok()) {
        AddError(v1::CUSTOMER_COLUMN_CUSTOMER_ID, "INVALID_VALUE",
                 absl::StrCat("customer id '", given_id, "' is not a UUID"));
        return InvalidArgument("INVALID_ROW", "the row is invalid");
      }
      auto found = tx_.FindCustomer(*id);
      if (!found.ok()) return found.status();
      if (found->has_value()) match = **found;
      id_for_create = *id;
    }
    bool fingerprint_known = false;
    if (!match.has_value()) {
      auto subject = tx_.FindKeySubject(kRowScope, fingerprint);
      if (!subject.ok()) return subject.status();
      if (subject->has_value() && !(*subject)->empty()) {
        auto found = tx_.FindCustomer(**subject);
        if (!found.ok()) return found.status();
        if (found->has_value() && (*found)->customer.state() != v1::CUSTOMER_STATE_MERGED &&
            (*found)->customer.state() != v1::CUSTOMER_STATE_ERASED) {
          match = **found;
          fingerprint_known = true;
        }
      }
    }
    if (!match.has_value() && id_for_create.empty()) {
      absl::Status dup = tx_.CheckDuplicates(normalized);
      if (!dup.ok()) {
        if (errors::Reason(dup) != "CUSTOMER_DUPLICATE") return dup;
        const auto metadata = errors::GetMetadata(dup);
        auto it = metadata.find("existing_customer_id");
        if (it == metadata.end()) return dup;
        auto found = tx_.FindCustomer(it->second);
        if (!found.ok()) return found.status();
        if (!found->has_value()) return dup;
        match = **found;
      }
    }

    // 4a. A new customer.
    if (!match.has_value()) {
      if (normalized.category_id().empty()) {
        normalized.set_category_id(options_.default_category_id());
      }
      const std::string id = id_for_create.empty() ? ids_.NewId() : id_for_create;
      KnownAboutNewCustomer known;
      known.id_is_new = id_for_create.empty();
      known.duplicates_checked = id_for_create.empty();  // checked above, in this transaction
      auto created = InsertNewCustomer(
          tx_, settings_, std::move(normalized), id,
          /*allow_duplicate=*/false,
          settings_.customer_limit() > 0 ? std::optional<int64_t>(limited_count_) : std::nullopt,
          known);
      if (!created.ok()) return created.status();
      if (auto s = tx_.PutKeySubject(kRowScope, fingerprint, id); !s.ok()) return s;
      outcome = Outcome::kCreated;
      return absl::OkStatus();
    }

    // 4b. An existing customer: merge the row's non-empty cells into it.
    const Customer& before = match->customer;
    existing_id = before.customer_id();
    if (before.state() == v1::CUSTOMER_STATE_MERGED) {
      AddError(v1::CUSTOMER_COLUMN_UNSPECIFIED, "CUSTOMER_MERGED",
               absl::StrCat("the customer was merged into ", before.merged_into_customer_id()));
      row_errors_.back().set_existing_customer_id(existing_id);
      return InvalidArgument("INVALID_ROW", "merged");
    }
    if (before.state() == v1::CUSTOMER_STATE_ERASED) {
      AddError(v1::CUSTOMER_COLUMN_UNSPECIFIED, "CUSTOMER_ERASED",
               "the customer's personal data was erased");
      row_errors_.back().set_existing_customer_id(existing_id);
      return InvalidArgument("INVALID_ROW", "erased");
    }
    if (before.state() == v1::CUSTOMER_STATE_MERGING) {
      AddError(v1::CUSTOMER_COLUMN_UNSPECIFIED, "CUSTOMER_MERGED", "the customer is being merged");
      row_errors_.back().set_existing_customer_id(existing_id);
      return InvalidArgument("INVALID_ROW", "merging");
    }
    Customer next = Merge(before, normalized);
    if (next.additional_phones_size() > domain::kMaxAdditionalPhones) {
      AddError(v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES, "TOO_MANY_PHONES",
               absl::StrCat("the customer would have more than ", domain::kMaxAdditionalPhones,
                            " additional phones"));
      return InvalidArgument("INVALID_ROW", "too many phones");
    }
    const bool changed = !domain::ChangedPaths(before, next).empty();
    if (changed && options_.on_duplicate() == v1::IMPORT_DUPLICATE_POLICY_UPDATE) {
      auto saved = SaveCustomerChanges(tx_, settings_, *match, std::move(next),
                                       /*allow_duplicate=*/false);
      if (!saved.ok()) return saved.status();
      outcome = Outcome::kUpdated;
    } else {
      outcome = changed ? Outcome::kSkipped : Outcome::kUnchanged;
    }
    if (!fingerprint_known && outcome != Outcome::kSkipped) {
      if (auto s = tx_.PutKeySubject(kRowScope, fingerprint, existing_id); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // `before` with the row's non-empty values; phones are added, not replaced.
  static Customer Merge(const Customer& before, const Customer& row) {
    Customer next = before;
    next.set_display_name(row.display_name());
    auto has_phone = [&](const std::string& e164) {
      if (next.has_phone() && next.phone().e164() == e164) return true;
      for (const auto& p : next.additional_phones()) {
        if (p.e164() == e164) return true;
      }
      return false;
    };
    auto add_phone = [&](const v1::Phone& p) {
      if (p.e164().empty() || has_phone(p.e164())) return;
      if (!next.has_phone() || next.phone().e164().empty()) {
        *next.mutable_phone() = p;
      } else {
        *next.add_additional_phones() = p;
      }
    };
    if (row.has_phone()) add_phone(row.phone());
    for (const auto& p : row.additional_phones()) add_phone(p);
    if (!row.email().empty()) next.set_email(row.email());
    const auto& a = row.address();
    if (!a.text().empty()) next.mutable_address()->set_text(a.text());
    if (!a.city().empty()) next.mutable_address()->set_city(a.city());
    if (!a.province().empty()) next.mutable_address()->set_province(a.province());
    if (!a.postal_code().empty()) next.mutable_address()->set_postal_code(a.postal_code());
    if (!row.company_name().empty()) next.set_company_name(row.company_name());
    if (!row.category_id().empty()) next.set_category_id(row.category_id());
    if (!row.notes().empty()) next.set_notes(row.notes());
    if (row.has_birthday() && row.birthday().month() != 0) {
      *next.mutable_birthday() = row.birthday();
    }
    const auto& p = row.preferences();
    if (p.favourite_products_size() > 0) {
      *next.mutable_preferences()->mutable_favourite_products() = p.favourite_products();
    }
    if (!p.special_needs().empty())
      next.mutable_preferences()->set_special_needs(p.special_needs());
    if (p.preferred_channel() != v1::CONTACT_CHANNEL_UNSPECIFIED) {
      next.mutable_preferences()->set_preferred_channel(p.preferred_channel());
    }
    return next;
  }

  DirectoryTx& tx_;
  const Mapping& mapping_;
  const v1::ImportCustomersHeader& options_;
  const phone::PhoneNormalizer& phones_;
  ids::IdGenerator& ids_;
  BatchResult& result_;
  v1::TenantSettings settings_;
  absl::TimeZone tz_;
  int64_t limited_count_ = 0;
  absl::flat_hash_map<std::string, std::optional<std::string>> categories_;
  std::vector<v1::ImportRowError> row_errors_;
};

absl::Status ReaderError(const absl::Status& s, const ImportLimits& limits) {
  auto metadata = errors::GetMetadata(s);
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    const bool rows = errors::Reason(s) == csv::kReasonCsvTooManyRecords;
    return errors::Error(absl::StatusCode::kResourceExhausted, "IMPORT_TOO_LARGE",
                         rows ? absl::StrCat("the file has more than ", limits.max_rows,
                                             " data rows (max_rows); split it")
                              : absl::StrCat("the file is larger than ", limits.max_bytes,
                                             " bytes (max_bytes); split it"),
                         {{"max_bytes", absl::StrCat(limits.max_bytes)},
                          {"max_rows", absl::StrCat(limits.max_rows)},
                          {"limit", rows ? "max_rows" : "max_bytes"},
                          {"line", metadata["line"]}});
  }
  metadata["csv_reason"] = errors::Reason(s);
  return errors::Error(absl::StatusCode::kInvalidArgument, "IMPORT_FILE_INVALID",
                       absl::StrCat("the file is not readable CSV: ", s.message()), metadata);
}

// After Read() returned false without a parse failure: whether the stream was cut rather
// than ended by the client. gRPC does not promise that a cancelled call already reads as
// cancelled when its failed Read() returns, so a stream whose bytes end inside a record (the
// one case where the answer changes what is imported) is watched a little longer.
bool StreamWasCut(const grpc::ServerContext& context, const csv::Reader& csv) {
  if (context.IsCancelled()) return true;
  if (!csv.has_partial_record()) return false;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(250);
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    if (context.IsCancelled()) return true;
  }
  return false;
}

}  // namespace

grpc::Status CustomerImporter::Import(grpc::ServerContext* context,
                                      grpc::ServerReader<v1::ImportCustomersRequest>* reader,
                                      v1::ImportCustomersResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/ImportCustomers");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());

  v1::ImportCustomersRequest message;
  if (!reader->Read(&message)) {
    if (auto s = server::TakeReadParseFailure(*context); !s.ok()) return ToGrpc(s);
  }
  if (!message.has_header()) {
    return ToGrpc(InvalidArgument("IMPORT_HEADER_MISSING",
                                  "the first message of the stream must carry the header"));
  }
  const v1::ImportCustomersHeader options = message.header();
  {
    errors::FieldErrors bad;
    if (auto s = domain::ValidateRequestId(options.request_id()); !s.ok()) {
      bad.Add("header.request_id", std::string(s.message()));
    }
    if (!v1::ImportDuplicatePolicy_IsValid(options.on_duplicate())) {
      bad.Add("header.on_duplicate", "unknown policy");
    }
    if (!bad.empty()) return ToGrpc(bad.ToStatus());
  }
  if (!options.default_category_id().empty()) {
    absl::Status s = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
      auto found = tx.FindCategory(options.default_category_id());
      if (!found.ok()) return found.status();
      if (!found->has_value()) {
        return NotFound("CATEGORY_NOT_FOUND", "category", "category_id",
                        options.default_category_id());
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return ToGrpc(s);
  }

  csv::ReaderOptions reader_options;
  reader_options.detect_delimiter = true;
  reader_options.max_input_bytes = limits_.max_bytes;
  reader_options.max_records = limits_.max_rows + 1;
  auto csv = csv::Reader::Create(reader_options);
  if (!csv.ok()) return ToGrpc(csv.status());

  store::WriteOptions write_options;
  write_options.principal = rc->principal;
  write_options.request_id = options.request_id().empty() ? rc->request_id : options.request_id();
  write_options.own_transaction = true;  // a batch of rows: its own commit

  response->Clear();
  response->set_dry_run(options.dry_run());
  std::optional<Mapping> mapping;
  std::vector<Row> batch;
  size_t batch_size = 0;  // rows in `batch` in use (their vectors are reused)
  csv::Record record;

  int64_t written_since_refresh = 0;  // rows this import wrote since it last analyzed
  auto flush = [&]() -> absl::Status {
    if (batch_size == 0) return absl::OkStatus();
    BatchResult result;
    absl::Status status = store_.Write(
        rc->tenant_id, write_options,
        [&](DirectoryTx& tx) -> absl::Status {
          result = BatchResult();
          RowApplier applier(tx, *mapping, options, phones_, ids_, result);
          if (auto s = applier.Begin(); !s.ok()) return s;
          for (size_t i = 0; i < batch_size; ++i) {
            if (auto s = applier.Apply(batch[i]); !s.ok()) return s;
          }
          if (options.dry_run()) {
            return absl::CancelledError("dry run: rolled back");
          }
          return absl::OkStatus();
        },
        nullptr);
    if (options.dry_run() && absl::IsCancelled(status)) status = absl::OkStatus();
    if (!status.ok()) return status;
    if (!options.dry_run()) {
      written_since_refresh += result.created + result.updated;
      auto refreshed = store_.RefreshStatistics(written_since_refresh);
      if (!refreshed.ok()) {
        log::Warn("import: planner statistics not refreshed",
                  {{"error", std::string(refreshed.status().message())}});
      } else if (*refreshed) {
        written_since_refresh = 0;
      }
    }
    response->set_created_count(response->created_count() + result.created);
    response->set_updated_count(response->updated_count() + result.updated);
    response->set_skipped_count(response->skipped_count() + result.skipped);
    response->set_unchanged_count(response->unchanged_count() + result.unchanged);
    response->set_failed_count(response->failed_count() + result.failed);
    for (auto& e : result.errors) {
      if (response->row_errors_size() >= limits_.max_row_errors) {
        response->set_row_errors_truncated(true);
        break;
      }
      *response->add_row_errors() = std::move(e);
    }
    batch_size = 0;
    return absl::OkStatus();
  };

  auto drain = [&]() -> absl::Status {
    while (true) {
      absl::StatusOr<bool> next = (*csv)->Next(&record);
      if (!next.ok()) return ReaderError(next.status(), limits_);
      if (!*next) return absl::OkStatus();
      if (!mapping.has_value()) {
        auto mapped = MapColumns(record.fields, options);
        if (!mapped.ok()) return mapped.status();
        mapping = *std::move(mapped);
        for (size_t i = 0; i < mapping->fields.size(); ++i) {
          auto* m = response->add_applied_column_mappings();
          m->set_column(mapping->headers[i]);
          m->set_field(mapping->fields[i]);
        }
        continue;
      }
      if (record.IsBlank()) continue;
      response->set_row_count(response->row_count() + 1);
      if (batch.size() <= batch_size) batch.emplace_back();
      batch[batch_size].line = record.line;
      batch[batch_size].fields.swap(record.fields);
      ++batch_size;
      if (!options.dry_run() && batch_size >= static_cast<size_t>(limits_.batch_rows)) {
        if (auto s = flush(); !s.ok()) return s;
      }
    }
  };

  bool cut = false;
  while (reader->Read(&message)) {
    if (context->IsCancelled()) {
      cut = true;
      break;
    }
    if (message.has_header()) {
      return ToGrpc(InvalidArgument("INVALID_ARGUMENT",
                                    "only the first message of the stream carries a header"));
    }
    if (auto s = (*csv)->Feed(message.chunk()); !s.ok()) return ToGrpc(ReaderError(s, limits_));
    if (auto s = drain(); !s.ok()) return ToGrpc(s);
  }
  // Read() returned false: the client half-closed (the file is complete), a message failed
  // to parse (protobuf refused its UTF-8), or the call was cancelled, timed out, lost its
  // connection or was ended by a shutdown. A stream that did not end normally may hold a
  // truncated record after its last line end ("Budi,0812-3456-78" of "Budi,0812-3456-7890"):
  // only the records that ended with a line end are complete, so the reader is not finished.
  absl::Status unparsable = server::TakeReadParseFailure(*context);
  if (!unparsable.ok() || cut || StreamWasCut(*context, **csv)) {
    // The complete rows read are applied, as a cut between two batches would leave them.
    const bool dropped_tail = (*csv)->has_partial_record();
    absl::Status applied = mapping.has_value() && !options.dry_run() ? flush() : absl::OkStatus();
    log::Info(unparsable.ok() ? "import: stream cut before its end"
                              : "import: stream ended by an unparsable message",
              {{"rows_read", absl::StrCat(response->row_count())},
               {"unterminated_record_dropped", dropped_tail ? "true" : "false"},
               {"applied", applied.ok() ? "true" : std::string(applied.message())}});
    if (!applied.ok()) return ToGrpc(applied);
    if (!unparsable.ok()) return ToGrpc(unparsable);
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the stream was cut: its complete rows were applied, an unterminated "
                        "last record was not");
  }
  (*csv)->Finish();
  if (auto s = drain(); !s.ok()) return ToGrpc(s);
  if (!mapping.has_value()) {
    return ToGrpc(InvalidArgument("IMPORT_FILE_INVALID", "the file has no header row"));
  }
  if (auto s = flush(); !s.ok()) return ToGrpc(s);
  return grpc::Status::OK;
}

}  // namespace kelola::customer::api
