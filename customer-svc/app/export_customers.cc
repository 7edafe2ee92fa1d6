#include "customer-svc/app/export_customers.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "customer-svc/app/customer_columns.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/store/category_records.h"
#include "libs/csv/writer.h"
#include "libs/money/money.h"
#include "libs/pdf/table_writer.h"
#include "libs/time/time.h"

namespace kelola::customer::app {
using v1::CustomerColumn;

const std::vector<CustomerColumn>& DefaultExportColumns() {
  static const auto* const kColumns =
      new std::vector<CustomerColumn>{v1::CUSTOMER_COLUMN_DISPLAY_NAME,
                                      v1::CUSTOMER_COLUMN_PHONE,
                                      v1::CUSTOMER_COLUMN_EMAIL,
                                      v1::CUSTOMER_COLUMN_ADDRESS,
                                      v1::CUSTOMER_COLUMN_COMPANY_NAME,
                                      v1::CUSTOMER_COLUMN_CATEGORY,
                                      v1::CUSTOMER_COLUMN_TOTAL_SPENT,
                                      v1::CUSTOMER_COLUMN_BALANCE,
                                      v1::CUSTOMER_COLUMN_LAST_PURCHASE_TIME};
  return *kColumns;
}

namespace {

bool IsMoney(CustomerColumn c) {
  return c == v1::CUSTOMER_COLUMN_TOTAL_SPENT || c == v1::CUSTOMER_COLUMN_BALANCE;
}
bool IsNumeric(CustomerColumn c) {
  return IsMoney(c) || c == v1::CUSTOMER_COLUMN_TRANSACTION_COUNT;
}

// The enum value's name without its prefix: "CONTACT_CHANNEL_LINE" -> "LINE".
std::string Suffix(const std::string& name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(name, prefix));
}

// "1234567.00": major units, '.' as the separator, no grouping.
std::string PlainAmount(int64_t minor, int minor_units) {
  if (minor_units <= 0) return absl::StrCat(minor);
  int64_t scale = 1;
  for (int i = 0; i < minor_units; ++i) scale *= 10;
  const bool negative = minor < 0;
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  std::string frac = absl::StrCat(abs % scale);
  frac.insert(0, minor_units - frac.size(), '0');
  return absl::StrCat(negative ? "-" : "", abs / scale, ".", frac);
}

struct Context {
  std::string language;
  absl::TimeZone tz;
  std::string currency;
  int minor_units = 2;
  bool plain_amounts = false;
  absl::flat_hash_map<std::string, std::string> category_names;
};

std::string FormatTime(const std::optional<absl::Time>& t, const absl::TimeZone& tz) {
  if (!t.has_value()) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", *t, tz);
}

std::string Cell(CustomerColumn column, const v1::Customer& c,
                 const store::CustomerStatsRecord& stats, const Context& ctx) {
  switch (column) {
    case v1::CUSTOMER_COLUMN_CUSTOMER_ID:
      return c.customer_id();
    case v1::CUSTOMER_COLUMN_DISPLAY_NAME:
      return c.display_name();
    case v1::CUSTOMER_COLUMN_PHONE:
      return c.phone().raw();
    case v1::CUSTOMER_COLUMN_PHONE_E164:
      return c.phone().e164();
    case v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES: {
      std::vector<std::string> raw;
      for (const auto& p : c.additional_phones()) raw.push_back(p.raw());
      return absl::StrJoin(raw, "; ");
    }
    case v1::CUSTOMER_COLUMN_EMAIL:
      return c.email();
    case v1::CUSTOMER_COLUMN_ADDRESS:
      return c.address().text();
    case v1::CUSTOMER_COLUMN_CITY:
      return c.address().city();
    case v1::CUSTOMER_COLUMN_PROVINCE:
      return c.address().province();
    case v1::CUSTOMER_COLUMN_POSTAL_CODE:
      return c.address().postal_code();
    case v1::CUSTOMER_COLUMN_COMPANY_NAME:
      return c.company_name();
    case v1::CUSTOMER_COLUMN_CATEGORY: {
      if (c.category_id().empty()) return "";
      auto it = ctx.category_names.find(c.category_id());
      return it == ctx.category_names.end() ? c.category_id() : it->second;
    }
    case v1::CUSTOMER_COLUMN_NOTES:
      return c.notes();
    case v1::CUSTOMER_COLUMN_BIRTHDAY: {
      if (!c.has_birthday() || c.birthday().month() == 0) return "";
      const auto& b = c.birthday();
      if (b.year() == 0) return absl::StrFormat("--%02d-%02d", b.month(), b.day());
      return absl::StrFormat("%04d-%02d-%02d", b.year(), b.month(), b.day());
    }
    case v1::CUSTOMER_COLUMN_MARKETING_CONSENT:
      switch (c.marketing_consent().state()) {
        case v1::MARKETING_CONSENT_STATE_GRANTED:
          return YesNo(true, ctx.language);
        case v1::MARKETING_CONSENT_STATE_WITHDRAWN:
          return YesNo(false, ctx.language);
        default:
          return "";
      }
    case v1::CUSTOMER_COLUMN_FAVOURITE_PRODUCTS:
      return absl::StrJoin(c.preferences().favourite_products(), "; ");
    case v1::CUSTOMER_COLUMN_SPECIAL_NEEDS:
      return c.preferences().special_needs();
    case v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL:
      if (c.preferences().preferred_channel() == v1::CONTACT_CHANNEL_UNSPECIFIED) return "";
      return Suffix(v1::ContactChannel_Name(c.preferences().preferred_channel()),
                    "CONTACT_CHANNEL_");
    case v1::CUSTOMER_COLUMN_STATE:
      return Suffix(v1::CustomerState_Name(c.state()), "CUSTOMER_STATE_");
    case v1::CUSTOMER_COLUMN_CREATE_TIME:
      return FormatTime(c.has_create_time() ? std::optional<absl::Time>(FromProto(c.create_time()))
                                            : std::nullopt,
                        ctx.tz);
    case v1::CUSTOMER_COLUMN_TOTAL_SPENT:
    case v1::CUSTOMER_COLUMN_BALANCE: {
      const int64_t minor =
          column == v1::CUSTOMER_COLUMN_TOTAL_SPENT ? stats.total_spent_minor : stats.balance_minor;
      if (ctx.plain_amounts) return PlainAmount(minor, ctx.minor_units);
      auto formatted = money::FormatForLocale(money::Money{minor, ctx.currency});
      return formatted.ok() ? *formatted : PlainAmount(minor, ctx.minor_units);
    }
    case v1::CUSTOMER_COLUMN_TRANSACTION_COUNT:
      return absl::StrCat(stats.transaction_count);
    case v1::CUSTOMER_COLUMN_FIRST_PURCHASE_TIME:
      return FormatTime(stats.first_purchase_time, ctx.tz);
    case v1::CUSTOMER_COLUMN_LAST_PURCHASE_TIME:
      return FormatTime(stats.last_purchase_time, ctx.tz);
    case v1::CUSTOMER_COLUMN_LAST_ACTIVITY_TIME:
      return FormatTime(stats.last_activity_time, ctx.tz);
    default:
      return "";
  }
}

struct Texts {
  const char* title;
  const char* filter;
  const char* all;
  const char* consenting;
  const char* order;
  const char* generated;
  const char* page;
  const char* empty;
};

const Texts& TextsFor(absl::string_view language) {
  static const Texts kId{"Daftar Pelanggan", "Filter",
                         "semua pelanggan",  "Hanya pelanggan yang setuju menerima promosi",
                         "Urutan",           "Dibuat",
                         "Halaman",          "Tidak ada pelanggan"};
  static const Texts kTh{"รายชื่อลูกค้า", "ตัวกรอง",  "ลูกค้าทั้งหมด", "เฉพาะลูกค้าที่ยินยอมรับข่าวสาร",
                         "เรียงตาม",   "สร้างเมื่อ", "หน้า",       "ไม่มีลูกค้า"};
  static const Texts kEn{
      "Customers", "Filter",    "all customers", "Only customers who consent to marketing",
      "Order",     "Generated", "Page",          "No customers"};
  if (language == "id") return kId;
  if (language == "th") return kTh;
  return kEn;
}

}  // namespace

absl::Status ExportCustomers::Run(absl::string_view tenant, const ExportCommand& command,
                                  ExportSink& sink) const {
  const std::vector<CustomerColumn>& columns =
      command.columns.empty() ? DefaultExportColumns() : command.columns;
  auto filter = domain::ParseListFilter(command.filter);
  if (!filter.ok()) return filter.status();
  store::ListSpec spec;
  spec.filter = command.filter;
  spec.order_by = command.order_by;
  spec.show_archived = command.show_archived;
  spec.page_size = limits_.page_size;
  bool nothing = false;  // consenting_only with a filter on another consent state
  if (command.consenting_only) {
    if (!filter->consent.has_value()) {
      const std::string term = "consent = GRANTED";
      spec.filter = absl::StripAsciiWhitespace(spec.filter).empty()
                        ? term
                        : absl::StrCat(spec.filter, " AND ", term);
    } else if (*filter->consent != v1::MARKETING_CONSENT_STATE_GRANTED) {
      nothing = true;
    }
  }
  if (auto order = domain::ParseListOrder(command.order_by); !order.ok()) {
    return order.status();
  }

  // The tenant: language, time zone, currency, category names.
  Context ctx;
  ctx.plain_amounts = command.plain_amounts && command.format == v1::EXPORT_FORMAT_CSV;
  absl::Status read = store_.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    ctx.language = command.language.empty() ? settings->settings.language_code() : command.language;
    auto tz = TenantZone(settings->settings);
    if (!tz.ok()) return tz.status();
    ctx.tz = *tz;
    ctx.currency = settings->settings.currency_code();
    auto categories = store::CategoryRecords(tx).ListCategories();
    if (!categories.ok()) return categories.status();
    for (const auto& c : *categories) {
      ctx.category_names[c.category.category_id()] = c.category.display_name();
    }
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  if (auto info = money::LookupCurrency(ctx.currency); info.ok()) {
    ctx.minor_units = info->minor_units;
  }
  if (ctx.language != "id" && ctx.language != "th") ctx.language = "en";

  const absl::Time now = clock_.Now();
  const bool csv_format = command.format == v1::EXPORT_FORMAT_CSV;
  if (absl::Status s =
          sink.Open(csv_format ? "text/csv; charset=utf-8" : "application/pdf",
                    absl::StrCat("customers-", absl::FormatTime("%Y-%m-%d", now, ctx.tz),
                                 csv_format ? ".csv" : ".pdf"));
      !s.ok()) {
    return s;
  }
  auto to_sink = [&](absl::string_view chunk) { return sink.Write(chunk); };

  std::unique_ptr<csv::Writer> csv_writer;
  std::unique_ptr<pdf::TableWriter> pdf_writer;
  std::vector<std::string> headers;
  for (CustomerColumn c : columns) headers.push_back(ColumnHeader(c, ctx.language));
  if (csv_format) {
    csv::WriterOptions options;
    options.chunk_bytes = limits_.chunk_bytes;
    auto created = csv::Writer::Create(options, to_sink);
    if (!created.ok()) return created.status();
    csv_writer = *std::move(created);
    for (const auto& h : headers) csv_writer->AddText(h);
    if (auto s = csv_writer->EndRow(); !s.ok()) return s;
  } else {
    const Texts& texts = TextsFor(ctx.language);
    pdf::TableOptions options;
    options.orientation = pdf::Orientation::kLandscape;
    options.title = texts.title;
    options.subtitle_lines.push_back(absl::StrCat(
        texts.filter, ": ",
        absl::StripAsciiWhitespace(command.filter).empty() ? texts.all : command.filter,
        command.show_archived ? " (+archived)" : ""));
    if (command.consenting_only) options.subtitle_lines.push_back(texts.consenting);
    if (!command.order_by.empty()) {
      options.subtitle_lines.push_back(absl::StrCat(texts.order, ": ", command.order_by));
    }
    options.subtitle_lines.push_back(
        absl::StrCat(texts.generated, " ", absl::FormatTime("%Y-%m-%d %H:%M %Z", now, ctx.tz)));
    for (size_t i = 0; i < columns.size(); ++i) {
      pdf::Column column;
      column.title = headers[i];
      column.weight = columns[i] == v1::CUSTOMER_COLUMN_DISPLAY_NAME ||
                              columns[i] == v1::CUSTOMER_COLUMN_ADDRESS
                          ? 2.0
                          : 1.0;
      if (IsNumeric(columns[i])) column.align = pdf::Align::kRight;
      options.columns.push_back(column);
    }
    options.page_label = texts.page;
    options.empty_message = texts.empty;
    options.chunk_bytes = limits_.chunk_bytes;
    auto created = pdf::TableWriter::Create(options, to_sink);
    if (!created.ok()) return created.status();
    pdf_writer = *std::move(created);
  }

  // The rows, page by page.
  int64_t rows = 0;
  std::vector<std::string> cells(columns.size());
  std::vector<absl::string_view> views(columns.size());
  v1::Customer customer;
  while (!nothing) {
    if (sink.Cancelled()) return absl::CancelledError("cancelled");
    auto page = queries_.ExportPage(tenant, spec);
    if (!page.ok()) return page.status();
    for (const auto& item : page->items) {
      if (!customer.ParseFromString(item.data)) {
        return absl::InternalError("corrupt customer row");
      }
      time::ClampStoredTimestamps(&customer);
      for (size_t i = 0; i < columns.size(); ++i) {
        cells[i] = Cell(columns[i], customer, item.stats, ctx);
        views[i] = cells[i];
      }
      if (csv_writer != nullptr) {
        for (size_t i = 0; i < columns.size(); ++i) {
          if (IsNumeric(columns[i]) &&
              (ctx.plain_amounts || columns[i] == v1::CUSTOMER_COLUMN_TRANSACTION_COUNT)) {
            csv_writer->AddNumber(cells[i]);
          } else {
            csv_writer->AddText(cells[i]);
          }
        }
        if (auto s = csv_writer->EndRow(); !s.ok()) return s;
      } else {
        if (auto s = pdf_writer->AddRow(views); !s.ok()) return s;
      }
      ++rows;
    }
    if (page->next_page_token.empty()) break;
    spec.page_token = page->next_page_token;
  }
  absl::Status finished = csv_writer != nullptr ? csv_writer->Finish() : pdf_writer->Finish();
  if (!finished.ok()) return finished;
  return sink.Close(rows);
}

}  // namespace kelola::customer::app
