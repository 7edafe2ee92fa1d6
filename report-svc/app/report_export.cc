#include "report-svc/app/report_export.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "kelola/report/v1/error_reason.pb.h"
#include "libs/csv/writer.h"
#include "libs/errors/errors.h"
#include "libs/money/money.h"
#include "libs/pdf/table_writer.h"
#include "libs/time/time.h"
#include "report-svc/app/export_labels.h"

namespace kelola::report::app {
namespace {

constexpr size_t kMaxChunkBytes = 64 * 1024;
constexpr char kCsvContentType[] = "text/csv; charset=utf-8";
constexpr char kPdfContentType[] = "application/pdf";

// The wire name of a reason: the enum value's name without "ERROR_REASON_".
std::string ReasonName(v1::ErrorReason reason) {
  return std::string(absl::StripPrefix(v1::ErrorReason_Name(reason), "ERROR_REASON_"));
}

bool SupportedLanguage(absl::string_view language) {
  return language == "id" || language == "th" || language == "en";
}

// "1234567.00": major units, '.' as the decimal separator, no grouping (plain_amounts).
// libs/money has only the display form, so the plain one is written here.
std::string PlainAmount(int64_t minor, int minor_units) {
  const bool negative = minor < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(minor) : minor;
  if (minor_units <= 0) return absl::StrCat(negative ? "-" : "", magnitude);
  uint64_t scale = 1;
  for (int i = 0; i < minor_units; ++i) scale *= 10;
  std::string fraction = absl::StrCat(magnitude % scale);
  fraction.insert(0, minor_units - fraction.size(), '0');
  return absl::StrCat(negative ? "-" : "", magnitude / scale, ".", fraction);
}

// A cell: text (neutralized in CSV when it starts like a formula) or a number the program
// made itself (written as is).
struct Cell {
  std::string text;
  bool number = false;
};
Cell Text(std::string text) { return Cell{std::move(text), false}; }
Cell Number(std::string text) { return Cell{std::move(text), true}; }
Cell Empty() { return Cell{}; }

// Turns the contract's values into cells for one language and amount style.
class Formatter {
 public:
  Formatter(std::string currency, std::string language, bool plain_amounts)
      : currency_(std::move(currency)), language_(std::move(language)), plain_(plain_amounts) {}

  Cell Amount(const type::v1::Money& money) const {
    const std::string& code = money.currency_code().empty() ? currency_ : money.currency_code();
    auto info = kelola::money::LookupCurrency(code);
    const std::string plain = PlainAmount(money.amount_minor(), info.ok() ? info->minor_units : 2);
    if (plain_) return Number(plain);
    auto formatted = kelola::money::FormatForLocale({money.amount_minor(), code});
    return formatted.ok() ? Text(*formatted) : Text(absl::StrCat(code, " ", plain));
  }
  Cell Count(int64_t value) const { return Number(absl::StrCat(value)); }
  // YYYY-MM-DD; empty when the date is unset.
  Cell Day(bool has, const type::v1::Date& date) const {
    if (!has || date.year() == 0) return Empty();
    return Text(absl::FormatCivilTime(time::ToCivilDay(date)));
  }
  // Thousandths as a decimal without trailing zeros ("1.5"); Indonesian writes "1,5".
  Cell Milli(int64_t milli) const {
    const bool negative = milli < 0;
    const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(milli) : milli;
    std::string fraction = absl::StrCat(magnitude % 1000 + 1000).substr(1);
    while (fraction.size() > 1 && fraction.back() == '0') fraction.pop_back();
    const char* point = language_ == "id" && !plain_ ? "," : ".";
    std::string text = absl::StrCat(negative ? "-" : "", magnitude / 1000, point, fraction);
    return plain_ || language_ != "id" ? Number(std::move(text)) : Text(std::move(text));
  }
  Cell YesNo(bool value, const ExportLabels& labels) const {
    return Text(value ? labels.yes : labels.no);
  }

 private:
  std::string currency_;
  std::string language_;
  bool plain_;
};

struct ColumnSpec {
  std::string title;
  double weight = 1.0;
  // Numbers and money: right-aligned on paper.
  bool right = false;
  // Ids help spreadsheets (lookups, re-imports) but are noise on paper.
  bool csv_only = false;
};

struct Layout {
  std::string title;
  // The file name without extension, e.g. "receivables-2024-05-31".
  std::string file_stem;
  // PDF only: filters, generation time, data freshness.
  std::vector<std::string> subtitles;
  std::vector<ColumnSpec> columns;
  bool landscape = false;
  // Unset when the report does not say (insight lists).
  const google::protobuf::Timestamp* data_as_of_time = nullptr;
};

// The file being written: a CSV or PDF table whose bytes become ExportReportResponse
// messages, with the metadata on the first one and the row count on an extra last one.
class ExportFile {
 public:
  static absl::StatusOr<std::unique_ptr<ExportFile>> Open(v1::ExportFormat format,
                                                          const Layout& layout,
                                                          const ExportLabels& labels,
                                                          size_t chunk_bytes,
                                                          const ReportExporter::WriteFn& write);

  // A data row (counted in row_count).
  absl::Status AddRow(const std::vector<Cell>& cells) {
    ++rows_;
    return AddCells(cells);
  }
  // A totals row (not counted).
  absl::Status AddTotalsRow(const std::vector<Cell>& cells) { return AddCells(cells); }
  // Ends the table and sends the last message.
  absl::Status Finish();

 private:
  ExportFile(const Layout& layout, const ReportExporter::WriteFn& write);
  absl::Status AddCells(const std::vector<Cell>& cells);
  absl::Status Send(absl::string_view chunk, bool last);

  const ReportExporter::WriteFn& write_;
  std::vector<bool> on_paper_;  // per column: shown in the PDF
  std::string content_type_;
  std::string file_name_;
  google::protobuf::Timestamp data_as_of_time_;
  bool has_data_as_of_time_ = false;
  bool first_ = true;
  int64_t rows_ = 0;
  std::unique_ptr<csv::Writer> csv_;
  std::unique_ptr<pdf::TableWriter> pdf_;
};

ExportFile::ExportFile(const Layout& layout, const ReportExporter::WriteFn& write) : write_(write) {
  for (const auto& column : layout.columns) on_paper_.push_back(!column.csv_only);
  if (layout.data_as_of_time != nullptr) {
    data_as_of_time_ = *layout.data_as_of_time;
    has_data_as_of_time_ = true;
  }
}

absl::StatusOr<std::unique_ptr<ExportFile>> ExportFile::Open(v1::ExportFormat format,
                                                             const Layout& layout,
                                                             const ExportLabels& labels,
                                                             size_t chunk_bytes,
                                                             const ReportExporter::WriteFn& write) {
  std::unique_ptr<ExportFile> file(new ExportFile(layout, write));
  auto sink = [f = file.get()](absl::string_view chunk) { return f->Send(chunk, false); };
  const bool csv_format = format == v1::EXPORT_FORMAT_CSV;
  file->content_type_ = csv_format ? kCsvContentType : kPdfContentType;
  file->file_name_ = absl::StrCat(layout.file_stem, csv_format ? ".csv" : ".pdf");
  if (csv_format) {
    csv::WriterOptions options;
    options.chunk_bytes = chunk_bytes;
    auto writer = csv::Writer::Create(options, sink);
    if (!writer.ok()) return writer.status();
    file->csv_ = *std::move(writer);
    for (const auto& column : layout.columns) file->csv_->AddText(column.title);
    if (auto s = file->csv_->EndRow(); !s.ok()) return s;
    return file;
  }
  pdf::TableOptions options;
  options.orientation =
      layout.landscape ? pdf::Orientation::kLandscape : pdf::Orientation::kPortrait;
  options.title = layout.title;
  options.subtitle_lines = layout.subtitles;
  for (const auto& column : layout.columns) {
    if (column.csv_only) continue;
    options.columns.push_back(pdf::Column{column.title, column.weight,
                                          column.right ? pdf::Align::kRight : pdf::Align::kLeft});
  }
  options.page_label = labels.page;
  options.empty_message = labels.no_rows;
  options.chunk_bytes = chunk_bytes;
  auto writer = pdf::TableWriter::Create(options, sink);
  if (!writer.ok()) return writer.status();
  file->pdf_ = *std::move(writer);
  return file;
}

absl::Status ExportFile::AddCells(const std::vector<Cell>& cells) {
  if (csv_ != nullptr) {
    for (const Cell& cell : cells) {
      if (cell.number) {
        csv_->AddNumber(cell.text);
      } else {
        csv_->AddText(cell.text);
      }
    }
    return csv_->EndRow();
  }
  std::vector<absl::string_view> shown;
  for (size_t i = 0; i < cells.size() && i < on_paper_.size(); ++i) {
    if (on_paper_[i]) shown.push_back(cells[i].text);
  }
  return pdf_->AddRow(shown);
}

absl::Status ExportFile::Finish() {
  absl::Status finished = csv_ != nullptr ? csv_->Finish() : pdf_->Finish();
  if (!finished.ok()) return finished;
  return Send("", true);
}

absl::Status ExportFile::Send(absl::string_view chunk, bool last) {
  v1::ExportReportResponse message;
  message.set_chunk(std::string(chunk));
  if (first_) {
    message.set_content_type(content_type_);
    message.set_file_name(file_name_);
    if (has_data_as_of_time_) *message.mutable_data_as_of_time() = data_as_of_time_;
    first_ = false;
  }
  if (last) message.set_row_count(rows_);
  return write_(message);
}

// Everything one export needs, passed to the per-report functions below.
struct Job {
  Reports& reports;
  const Clock& clock;
  const ReportExportOptions& options;
  const std::string& tenant_id;
  const ExportContext& ctx;
  const v1::ExportReportRequest& request;
  absl::Time deadline;
  const ReportExporter::WriteFn& write;
  std::string language;
  const ExportLabels& labels;
  Formatter format;
  absl::Time now;

  std::string Today() const { return absl::FormatTime("%Y-%m-%d", now, ctx.time_zone); }
  std::string DayText(const type::v1::Date& date) const {
    return absl::FormatCivilTime(time::ToCivilDay(date));
  }
  absl::Status CheckDeadline() const {
    if (clock.Now() < deadline) return absl::OkStatus();
    return absl::DeadlineExceededError("the export ran out of time");
  }
  absl::StatusOr<std::unique_ptr<ExportFile>> Open(const Layout& layout) const {
    size_t chunk = std::clamp<size_t>(options.chunk_bytes, 1, kMaxChunkBytes);
    return ExportFile::Open(request.format(), layout, labels, chunk, write);
  }
  // The PDF subtitle: the filters given, then when the file was made and how fresh it is.
  std::vector<std::string> Subtitles(std::vector<std::string> filters,
                                     const google::protobuf::Timestamp* data_as_of) const {
    filters.push_back(absl::StrCat(labels.generated, " ",
                                   absl::FormatTime("%Y-%m-%d %H:%M", now, ctx.time_zone), " (",
                                   ctx.time_zone_name, ")"));
    if (data_as_of != nullptr && (data_as_of->seconds() != 0 || data_as_of->nanos() != 0)) {
      filters.push_back(absl::StrCat(
          labels.data_as_of, " ",
          absl::FormatTime("%Y-%m-%d %H:%M:%S", time::ToTime(*data_as_of), ctx.time_zone)));
    }
    return filters;
  }
  // "Kategori: vip" when `value` is set.
  void Filter(std::vector<std::string>& lines, const char* label, const std::string& value) const {
    if (!value.empty()) lines.push_back(absl::StrCat(label, ": ", value));
  }
};

// ---- R2 customer report ----
//
// One table for figures and top customers, so that a spreadsheet can filter it and the PDF
// needs no second table: columns Item | Rank | Customer ID (CSV only) | Customer | Value |
// Transactions | Last purchase. First one row per figure (Item = the figure's name, Value =
// the figure), then one row per top customer (Item = "Top customer", Rank, the customer,
// Value = total spent, Transactions, Last purchase). row_count counts both kinds.

std::vector<std::pair<const char*, Cell>> Figures(const Job& job, const v1::CustomerReport& r) {
  const ExportLabels& l = job.labels;
  const Formatter& f = job.format;
  return {{l.total_customers, f.Count(r.total_customers())},
          {l.new_customers, f.Count(r.new_customers())},
          {l.active_customers, f.Count(r.active_customers())},
          {l.total_sales, f.Amount(r.total_sales())},
          {l.transaction_count, f.Count(r.transaction_count())},
          {l.average_customer_value, f.Amount(r.average_customer_value())},
          {l.average_order_value, f.Amount(r.average_order_value())},
          {l.purchase_frequency, f.Milli(r.purchase_frequency_milli())}};
}

absl::Status ExportCustomerReport(const Job& job) {
  const v1::GetCustomerReportRequest& request = job.request.customer_report();
  if (auto s = job.CheckDeadline(); !s.ok()) return s;
  auto response = job.reports.GetCustomerReport(job.tenant_id, request, job.deadline);
  if (!response.ok()) return response.status();
  const v1::CustomerReport& report = response->report();
  const ExportLabels& l = job.labels;

  Layout layout;
  layout.title = l.customer_report_title;
  const std::string start = job.DayText(request.start_date());
  const std::string end = job.DayText(request.end_date());
  layout.file_stem = absl::StrCat("customer-report-", start, "-", end);
  std::vector<std::string> filters = {absl::StrCat(l.period, ": ", start, " – ", end)};
  job.Filter(filters, l.time_zone,
             report.time_zone().empty() ? job.ctx.time_zone_name : report.time_zone());
  job.Filter(filters, l.category, request.category_id());
  job.Filter(filters, l.store, request.store_id());
  layout.subtitles = job.Subtitles(std::move(filters), &report.data_as_of_time());
  layout.columns = {{l.item, 2.2},         {l.rank, 0.6, true},  {l.customer_id, 1, false, true},
                    {l.customer, 2.2},     {l.value, 1.5, true}, {l.transactions, 1, true},
                    {l.last_purchase, 1.2}};
  layout.data_as_of_time = &report.data_as_of_time();
  auto file = job.Open(layout);
  if (!file.ok()) return file.status();

  for (auto& [name, value] : Figures(job, report)) {
    if (auto s = (*file)->AddRow(
            {Text(name), Empty(), Empty(), Empty(), std::move(value), Empty(), Empty()});
        !s.ok()) {
      return s;
    }
  }
  for (const v1::TopCustomer& top : report.top_customers()) {
    if (auto s = (*file)->AddRow(
            {Text(l.top_customer), job.format.Count(top.rank()), Text(top.customer_id()),
             Text(top.display_name()), job.format.Amount(top.total_spent()),
             job.format.Count(top.transaction_count()),
             job.format.Day(top.has_last_purchase_date(), top.last_purchase_date())});
        !s.ok()) {
      return s;
    }
  }
  return (*file)->Finish();
}

// ---- Paging of R3 and R5 ----

// Reads a paginated report whole, page_size rows at a time, holding one page at a time:
// `open` sees the first page (the file's layout and freshness come from it), then `render`
// gets every page, the first included. Errors of `fetch` end the loop as they are.
template <typename Request, typename Fetch, typename Open, typename Render>
absl::Status ForEachPage(const Job& job, Request request, Fetch fetch, Open open, Render render) {
  request.set_page_size(job.options.page_size);
  if (auto s = job.CheckDeadline(); !s.ok()) return s;
  auto page = fetch(request);
  if (!page.ok()) return page.status();
  if (auto s = open(*page); !s.ok()) return s;
  while (true) {
    if (auto s = render(*page); !s.ok()) return s;
    if (page->next_page_token().empty()) return absl::OkStatus();
    if (page->next_page_token() == request.page_token()) {
      return absl::InternalError("the report returned the same page token twice");
    }
    request.set_page_token(page->next_page_token());
    if (auto s = job.CheckDeadline(); !s.ok()) return s;
    page = fetch(request);
    if (!page.ok()) return page.status();
  }
}

// Opens the file into `file`, for the `open` step of ForEachPage.
absl::Status OpenInto(const Job& job, const Layout& layout, std::unique_ptr<ExportFile>& file) {
  auto opened = job.Open(layout);
  if (!opened.ok()) return opened.status();
  file = *std::move(opened);
  return absl::OkStatus();
}

// ---- R3 receivables ----
//
// One row per customer who owes, with the aging columns, then a totals row over every
// matching customer (from the report's own totals; not counted in row_count).

std::vector<Cell> ReceivablesCells(const Job& job, const v1::ReceivablesReportRow& row) {
  const Formatter& f = job.format;
  return {Text(row.customer_id()),
          Text(row.display_name()),
          Text(row.phone_e164()),
          f.Amount(row.balance()),
          f.Amount(row.aging().age_0_to_30_days()),
          f.Amount(row.aging().age_31_to_60_days()),
          f.Amount(row.aging().age_61_to_90_days()),
          f.Amount(row.aging().age_over_90_days()),
          f.Amount(row.overdue_amount()),
          f.Count(row.days_overdue()),
          f.Day(row.has_oldest_open_sale_date(), row.oldest_open_sale_date()),
          f.Day(row.has_last_payment_date(), row.last_payment_date())};
}

std::vector<Cell> ReceivablesTotalsCells(const Job& job, const v1::ReceivablesTotals& totals) {
  const Formatter& f = job.format;
  return {Empty(),
          Text(absl::StrCat(job.labels.total, " (", totals.customer_count(), ")")),
          Empty(),
          f.Amount(totals.total_balance()),
          f.Amount(totals.aging().age_0_to_30_days()),
          f.Amount(totals.aging().age_31_to_60_days()),
          f.Amount(totals.aging().age_61_to_90_days()),
          f.Amount(totals.aging().age_over_90_days()),
          f.Amount(totals.total_overdue_amount()),
          Empty(),
          Empty(),
          Empty()};
}

Layout ReceivablesLayout(const Job& job, const v1::GetReceivablesReportRequest& request,
                         const v1::GetReceivablesReportResponse& first) {
  const ExportLabels& l = job.labels;
  Layout layout;
  layout.title = l.receivables_title;
  layout.file_stem = absl::StrCat("receivables-", job.Today());
  layout.landscape = true;
  std::vector<std::string> filters;
  job.Filter(filters, l.category, request.category_id());
  job.Filter(filters, l.store, request.store_id());
  if (request.overdue_only()) filters.push_back(l.overdue_only);
  job.Filter(filters, l.order, request.order_by());
  layout.subtitles = job.Subtitles(std::move(filters), &first.data_as_of_time());
  layout.columns = {
      {l.customer_id, 1, false, true}, {l.customer, 2.2},          {l.phone, 1.5},
      {l.balance, 1.3, true},          {l.age_0_to_30, 1.2, true}, {l.age_31_to_60, 1.2, true},
      {l.age_61_to_90, 1.2, true},     {l.age_over_90, 1.2, true}, {l.overdue, 1.3, true},
      {l.days_overdue, 0.8, true},     {l.oldest_open_sale, 1.1},  {l.last_payment, 1.1}};
  layout.data_as_of_time = &first.data_as_of_time();
  return layout;
}

absl::Status ExportReceivables(const Job& job) {
  const v1::GetReceivablesReportRequest& request = job.request.receivables_report();
  std::unique_ptr<ExportFile> file;
  v1::ReceivablesTotals totals;
  absl::Status rows = ForEachPage(
      job, request,
      [&job](const v1::GetReceivablesReportRequest& r) {
        return job.reports.GetReceivablesReport(job.tenant_id, r, job.deadline);
      },
      [&](const v1::GetReceivablesReportResponse& first) {
        // Every page carries the totals over all pages; the first page's match its freshness.
        totals = first.totals();
        return OpenInto(job, ReceivablesLayout(job, request, first), file);
      },
      [&](const v1::GetReceivablesReportResponse& page) {
        for (const auto& row : page.rows()) {
          if (auto s = file->AddRow(ReceivablesCells(job, row)); !s.ok()) return s;
        }
        return absl::OkStatus();
      });
  if (!rows.ok()) return rows;
  if (auto s = file->AddTotalsRow(ReceivablesTotalsCells(job, totals)); !s.ok()) return s;
  return file->Finish();
}

// ---- R5 insights ----
//
// One row per customer. The payment-reminder list shows what is owed and a WhatsApp link
// (https://wa.me/<E.164 digits>); the segment lists show the RFM figures.

// "https://wa.me/628123456789" for "+628123456789"; empty without a phone.
std::string WhatsAppLink(const std::string& e164) {
  std::string digits;
  for (char c : e164) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  return digits.empty() ? "" : absl::StrCat("https://wa.me/", digits);
}

bool IsReminder(const Job& job) {
  return job.request.customer_insights().kind() == v1::INSIGHT_KIND_PAYMENT_REMINDER;
}

std::vector<ColumnSpec> InsightColumns(const Job& job) {
  const ExportLabels& l = job.labels;
  if (IsReminder(job)) {
    return {{l.customer_id, 1, false, true},
            {l.customer, 2.2},
            {l.phone, 1.5},
            {l.whatsapp, 2},
            {l.balance, 1.3, true},
            {l.overdue, 1.3, true},
            {l.days_overdue, 0.8, true},
            {l.last_purchase, 1.1}};
  }
  return {{l.customer_id, 1, false, true},
          {l.customer, 2.2},
          {l.phone, 1.5},
          {l.segment, 1},
          {l.recency_days, 1, true},
          {l.frequency, 1, true},
          {l.monetary, 1.3, true},
          {l.total_spent, 1.3, true},
          {l.balance, 1.3, true},
          {l.last_purchase, 1.1},
          {l.marketing_consent, 0.9}};
}

std::vector<Cell> InsightCells(const Job& job, const v1::CustomerInsight& c) {
  const Formatter& f = job.format;
  if (IsReminder(job)) {
    return {Text(c.customer_id()),     Text(c.display_name()),
            Text(c.phone_e164()),      Text(WhatsAppLink(c.phone_e164())),
            f.Amount(c.balance()),     f.Amount(c.overdue_amount()),
            f.Count(c.days_overdue()), f.Day(c.has_last_purchase_date(), c.last_purchase_date())};
  }
  return {Text(c.customer_id()),
          Text(c.display_name()),
          Text(c.phone_e164()),
          Text(SegmentName(c.segment(), job.language)),
          c.has_recency_days() ? f.Count(c.recency_days()) : Empty(),
          f.Count(c.frequency()),
          f.Amount(c.monetary()),
          f.Amount(c.total_spent()),
          f.Amount(c.balance()),
          f.Day(c.has_last_purchase_date(), c.last_purchase_date()),
          f.YesNo(c.marketing_consent(), job.labels)};
}

Layout InsightsLayout(const Job& job, const v1::ListCustomerInsightsRequest& request,
                      const v1::ListCustomerInsightsResponse& first) {
  const ExportLabels& l = job.labels;
  Layout layout;
  layout.title = InsightTitle(request.kind(), job.language);
  std::string kind = absl::AsciiStrToLower(
      absl::StripPrefix(v1::InsightKind_Name(request.kind()), "INSIGHT_KIND_"));
  absl::StrReplaceAll({{"_", "-"}}, &kind);
  layout.file_stem = absl::StrCat("insights-", kind, "-", job.Today());
  layout.landscape = true;
  std::vector<std::string> filters;
  job.Filter(filters, l.filter, request.filter());
  job.Filter(filters, l.order, request.order_by());
  // The insight lists carry no commit time, only the day they were computed for.
  if (first.has_as_of_date()) job.Filter(filters, l.data_as_of, job.DayText(first.as_of_date()));
  layout.subtitles = job.Subtitles(std::move(filters), nullptr);
  layout.columns = InsightColumns(job);
  return layout;
}

absl::Status ExportInsights(const Job& job) {
  const v1::ListCustomerInsightsRequest& request = job.request.customer_insights();
  std::unique_ptr<ExportFile> file;
  absl::Status rows = ForEachPage(
      job, request,
      [&job](const v1::ListCustomerInsightsRequest& r) {
        return job.reports.ListCustomerInsights(job.tenant_id, r, job.deadline);
      },
      [&](const v1::ListCustomerInsightsResponse& first) {
        return OpenInto(job, InsightsLayout(job, request, first), file);
      },
      [&](const v1::ListCustomerInsightsResponse& page) {
        for (const auto& insight : page.insights()) {
          if (auto s = file->AddRow(InsightCells(job, insight)); !s.ok()) return s;
        }
        return absl::OkStatus();
      });
  if (!rows.ok()) return rows;
  return file->Finish();
}

// ---- R6 series ----
//
// One row per bucket: Start | End | the metric (a count or an amount).

absl::Status ExportSeries(const Job& job) {
  const v1::GetSeriesRequest& request = job.request.series();
  if (auto s = job.CheckDeadline(); !s.ok()) return s;
  auto response = job.reports.GetSeries(job.tenant_id, request, job.deadline);
  if (!response.ok()) return response.status();
  const ExportLabels& l = job.labels;

  Layout layout;
  const std::string metric = MetricName(request.metric(), job.language);
  layout.title = absl::StrCat(metric, " – ", GranularityName(request.granularity(), job.language));
  auto slug = [](const std::string& name, absl::string_view prefix) {
    std::string s = absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
    absl::StrReplaceAll({{"_", "-"}}, &s);
    return s;
  };
  const std::string start = job.DayText(request.start_date());
  const std::string end = job.DayText(request.end_date());
  layout.file_stem = absl::StrCat(
      "series-", slug(v1::SeriesMetric_Name(request.metric()), "SERIES_METRIC_"), "-",
      slug(v1::Granularity_Name(request.granularity()), "GRANULARITY_"), "-", start, "-", end);
  std::vector<std::string> filters = {absl::StrCat(l.period, ": ", start, " – ", end)};
  job.Filter(filters, l.time_zone,
             response->time_zone().empty() ? job.ctx.time_zone_name : response->time_zone());
  job.Filter(filters, l.category, request.category_id());
  job.Filter(filters, l.store, request.store_id());
  layout.subtitles = job.Subtitles(std::move(filters), &response->data_as_of_time());
  layout.columns = {{l.start_date, 1}, {l.end_date, 1}, {metric, 1.5, true}};
  layout.data_as_of_time = &response->data_as_of_time();
  auto file = job.Open(layout);
  if (!file.ok()) return file.status();
  for (const v1::SeriesPoint& point : response->points()) {
    Cell value = point.has_amount()                              ? job.format.Amount(point.amount())
                 : point.value_case() == v1::SeriesPoint::kCount ? job.format.Count(point.count())
                                                                 : Empty();
    if (auto s = (*file)->AddRow({job.format.Day(point.has_start_date(), point.start_date()),
                                  job.format.Day(point.has_end_date(), point.end_date()),
                                  std::move(value)});
        !s.ok()) {
      return s;
    }
  }
  return (*file)->Finish();
}

// ---- Validation ----

void RequireWhole(errors::FieldErrors& bad, absl::string_view report, int32_t page_size,
                  const std::string& page_token) {
  constexpr char kWhole[] = "must be empty: the whole report is exported";
  if (page_size != 0) bad.Add(absl::StrCat(report, ".page_size"), kWhole);
  if (!page_token.empty()) bad.Add(absl::StrCat(report, ".page_token"), kWhole);
}

absl::Status Validate(const v1::ExportReportRequest& request) {
  errors::FieldErrors bad;
  switch (request.report_case()) {
    case v1::ExportReportRequest::REPORT_NOT_SET:
      bad.Add("report",
              "one of customer_report, receivables_report, customer_insights or series is "
              "required");
      break;
    case v1::ExportReportRequest::kReceivablesReport:
      RequireWhole(bad, "receivables_report", request.receivables_report().page_size(),
                   request.receivables_report().page_token());
      break;
    case v1::ExportReportRequest::kCustomerInsights:
      RequireWhole(bad, "customer_insights", request.customer_insights().page_size(),
                   request.customer_insights().page_token());
      break;
    default:
      break;
  }
  if (request.format() != v1::EXPORT_FORMAT_CSV && request.format() != v1::EXPORT_FORMAT_PDF) {
    bad.Add("format", "EXPORT_FORMAT_CSV or EXPORT_FORMAT_PDF is required");
  }
  if (!request.language_code().empty() && !SupportedLanguage(request.language_code())) {
    bad.Add("language_code", "\"id\", \"th\" or \"en\" (or empty for the tenant's language)");
  }
  return bad.ToStatus(ReasonName(v1::ERROR_REASON_INVALID_ARGUMENT));
}

}  // namespace

bool ReportExporter::Slots::TryAcquire(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  int& running = running_[tenant_id];
  if (running >= max_) return false;
  ++running;
  return true;
}

void ReportExporter::Slots::Release(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(tenant_id);
  if (it == running_.end()) return;
  if (--it->second <= 0) running_.erase(it);
}

ReportExporter::ReportExporter(Reports& reports, const Clock& clock, ReportExportOptions options)
    : reports_(reports),
      clock_(clock),
      options_(options),
      slots_(std::max(1, options.max_concurrent_per_tenant)) {}

absl::Status ReportExporter::Export(const std::string& tenant_id, const ExportContext& ctx,
                                    const v1::ExportReportRequest& request, absl::Time deadline,
                                    const WriteFn& write) {
  if (auto s = Validate(request); !s.ok()) return s;
  if (!slots_.TryAcquire(tenant_id)) {
    const int max = std::max(1, options_.max_concurrent_per_tenant);
    return errors::Error(
        absl::StatusCode::kResourceExhausted, ReasonName(v1::ERROR_REASON_EXPORT_LIMIT_REACHED),
        absl::StrCat("at most ", max, " exports may run at once for a tenant; retry later"),
        {{"max_concurrent", absl::StrCat(max)}});
  }
  absl::Cleanup release = [this, &tenant_id] { slots_.Release(tenant_id); };

  std::string language =
      request.language_code().empty() ? ctx.language_code : request.language_code();
  if (!SupportedLanguage(language)) language = "en";
  const bool plain = request.plain_amounts() && request.format() == v1::EXPORT_FORMAT_CSV;
  Job job{reports_,
          clock_,
          options_,
          tenant_id,
          ctx,
          request,
          deadline,
          write,
          language,
          LabelsFor(language),
          Formatter(ctx.currency, language, plain),
          clock_.Now()};
  switch (request.report_case()) {
    case v1::ExportReportRequest::kCustomerReport:
      return ExportCustomerReport(job);
    case v1::ExportReportRequest::kReceivablesReport:
      return ExportReceivables(job);
    case v1::ExportReportRequest::kCustomerInsights:
      return ExportInsights(job);
    case v1::ExportReportRequest::kSeries:
      return ExportSeries(job);
    default:
      return absl::InternalError("unhandled report");
  }
}

}  // namespace kelola::report::app
