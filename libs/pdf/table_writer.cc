#include "libs/pdf/table_writer.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"

namespace kelola::pdf {
namespace {

// A4 in points.
constexpr double kA4Short = 595.276;
constexpr double kA4Long = 841.890;
// Cell padding in points.
constexpr double kPadX = 3.0;
constexpr double kPadY = 2.2;
// Longest cell text laid out (bytes); longer text is cut (at a character boundary) before
// shaping, the ellipsis shows it was longer.
constexpr size_t kMaxCellBytes = 2048;
// Bounds that keep every row and the first page's heading well inside a page.
constexpr int kMaxLinesPerCell = 10;
constexpr size_t kMaxSubtitleLines = 10;

struct Rgb {
  double r, g, b;
};
constexpr Rgb kText = {0.07, 0.07, 0.07};
constexpr Rgb kMuted = {0.35, 0.35, 0.35};
constexpr Rgb kHeaderFill = {0.89, 0.91, 0.93};
constexpr Rgb kZebraFill = {0.96, 0.965, 0.975};
constexpr Rgb kRule = {0.55, 0.58, 0.62};

void SetColor(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

// One paragraph of valid UTF-8: invalid bytes become U+FFFD, control characters spaces, and the
// text is cut to kMaxCellBytes (plus an ellipsis) at a character boundary.
std::string CellText(absl::string_view text) {
  std::string out;
  if (text.size() > kMaxCellBytes) {
    size_t cut = kMaxCellBytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut);
  }
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    gchar* valid = g_utf8_make_valid(text.data(), static_cast<gssize>(text.size()));
    out = valid;
    g_free(valid);
  } else {
    out.assign(text.data(), text.size());
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

PangoAlignment ToPango(Align align) {
  switch (align) {
    case Align::kCenter:
      return PANGO_ALIGN_CENTER;
    case Align::kRight:
      return PANGO_ALIGN_RIGHT;
    case Align::kLeft:
    default:
      return PANGO_ALIGN_LEFT;
  }
}

double HeightOf(PangoLayout* layout) {
  int width = 0;
  int height = 0;
  pango_layout_get_size(layout, &width, &height);
  return static_cast<double>(height) / PANGO_SCALE;
}

}  // namespace

struct TableWriter::Impl {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  PangoFontMap* font_map = nullptr;  // private: pango font maps are not thread-safe
  PangoContext* context = nullptr;
  PangoLayout* title = nullptr;     // wraps onto 2 lines at most
  PangoLayout* subtitle = nullptr;  // wraps onto 3 lines at most
  PangoLayout* footer = nullptr;    // left part of the footer, one line
  PangoLayout* text = nullptr;      // page number, empty message
  std::vector<PangoLayout*> headers;
  std::vector<PangoLayout*> cells;
  std::vector<double> x;      // left edge of each column
  std::vector<double> width;  // width of each column
  double page_width = 0;
  double page_height = 0;
  double table_left = 0;
  double table_width = 0;
  double body_bottom = 0;  // rows end above this line
  double footer_top = 0;
  double header_height = 0;

  ~Impl() {
    for (PangoLayout* layout : headers) g_object_unref(layout);
    for (PangoLayout* layout : cells) g_object_unref(layout);
    if (title != nullptr) g_object_unref(title);
    if (subtitle != nullptr) g_object_unref(subtitle);
    if (footer != nullptr) g_object_unref(footer);
    if (text != nullptr) g_object_unref(text);
    if (context != nullptr) g_object_unref(context);
    if (font_map != nullptr) g_object_unref(font_map);
    if (cr != nullptr) cairo_destroy(cr);
    if (surface != nullptr) cairo_surface_destroy(surface);
  }

  PangoLayout* NewLayout(const std::string& family, double size, PangoWeight weight) {
    PangoLayout* layout = pango_layout_new(context);
    PangoFontDescription* font = pango_font_description_new();
    pango_font_description_set_family(font, family.c_str());
    pango_font_description_set_size(font, static_cast<int>(size * PANGO_SCALE));
    pango_font_description_set_weight(font, weight);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_auto_dir(layout, FALSE);
    return layout;
  }

  // Wraps at `width` points onto at most `max_lines` lines, the last one ellipsized.
  static void Bound(PangoLayout* layout, double width, int max_lines) {
    pango_layout_set_width(layout, std::max(1, static_cast<int>(width * PANGO_SCALE)));
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_height(layout, -max_lines);
  }
};

absl::StatusOr<std::unique_ptr<TableWriter>> TableWriter::Create(const TableOptions& options,
                                                                 Sink sink) {
  auto invalid = [](absl::string_view message) {
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPdfInvalidOptions, message);
  };
  if (!sink) return invalid("the PDF sink is not set");
  if (options.columns.empty()) return invalid("a PDF table needs at least one column");
  for (const Column& column : options.columns) {
    if (!(column.weight > 0) || column.max_lines < 0 || column.max_lines > kMaxLinesPerCell) {
      return invalid(absl::StrCat("column \"", column.title,
                                  "\": the weight must be positive and max_lines 0..",
                                  kMaxLinesPerCell));
    }
  }
  if (!(options.font_size >= 4 && options.font_size <= 36) ||
      !(options.margin >= 0 && options.margin <= 144) || options.max_lines_per_cell < 1 ||
      options.max_lines_per_cell > kMaxLinesPerCell ||
      options.subtitle_lines.size() > kMaxSubtitleLines || options.chunk_bytes == 0) {
    return invalid(absl::StrCat(
        "PDF options out of range: font_size 4..36 pt, margin 0..144 pt, "
        "max_lines_per_cell 1..",
        kMaxLinesPerCell, ", at most ", kMaxSubtitleLines, " subtitle lines, chunk_bytes > 0"));
  }
  std::unique_ptr<TableWriter> writer(new TableWriter(options, std::move(sink)));
  if (absl::Status s = writer->Init(); !s.ok()) return s;
  return writer;
}

TableWriter::TableWriter(const TableOptions& options, Sink sink)
    : options_(options), sink_(std::move(sink)), impl_(std::make_unique<Impl>()) {}

TableWriter::~TableWriter() {
  abandoned_ = !finished_;
  impl_.reset();  // an unfinished surface is finished here; Write() drops the bytes
}

absl::Status TableWriter::Init() {
  Impl& m = *impl_;
  const bool landscape = options_.orientation == Orientation::kLandscape;
  m.page_width = landscape ? kA4Long : kA4Short;
  m.page_height = landscape ? kA4Short : kA4Long;
  m.surface = cairo_pdf_surface_create_for_stream(
      [](void* closure, const unsigned char* data, unsigned int length) {
        auto* self = static_cast<TableWriter*>(closure);
        return self->Write(data, length).ok() ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
      },
      this, m.page_width, m.page_height);
  if (cairo_surface_status(m.surface) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat(
        "cairo PDF surface: ", cairo_status_to_string(cairo_surface_status(m.surface))));
  }
  if (!options_.title.empty()) {
    cairo_pdf_surface_set_metadata(m.surface, CAIRO_PDF_METADATA_TITLE, options_.title.c_str());
  }
  if (!options_.author.empty()) {
    cairo_pdf_surface_set_metadata(m.surface, CAIRO_PDF_METADATA_AUTHOR, options_.author.c_str());
  }
  if (!options_.creator.empty()) {
    cairo_pdf_surface_set_metadata(m.surface, CAIRO_PDF_METADATA_CREATOR, options_.creator.c_str());
  }
  m.cr = cairo_create(m.surface);

  // A font map of our own (not the per-thread default), so that a writer may move between
  // threads, e.g. from one gRPC callback reaction to the next.
  m.font_map = pango_cairo_font_map_new();
  m.context = pango_font_map_create_context(m.font_map);
  pango_cairo_update_context(m.cr, m.context);
  // Text in PDF points: 72 units per inch, no hinting (the output is scaled freely).
  pango_cairo_context_set_resolution(m.context, 72.0);
  cairo_font_options_t* font_options = cairo_font_options_create();
  cairo_font_options_set_hint_style(font_options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(font_options, CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(m.context, font_options);
  cairo_font_options_destroy(font_options);
  pango_context_set_round_glyph_positions(m.context, FALSE);

  const double size = options_.font_size;
  m.table_left = options_.margin;
  m.table_width = m.page_width - 2 * options_.margin;
  m.title = m.NewLayout(options_.font_family, size * 1.6, PANGO_WEIGHT_BOLD);
  Impl::Bound(m.title, m.table_width, 2);
  m.subtitle = m.NewLayout(options_.font_family, size, PANGO_WEIGHT_NORMAL);
  Impl::Bound(m.subtitle, m.table_width, 3);
  m.footer = m.NewLayout(options_.font_family, size, PANGO_WEIGHT_NORMAL);
  Impl::Bound(m.footer, m.table_width * 0.75, 1);
  m.text = m.NewLayout(options_.font_family, size, PANGO_WEIGHT_NORMAL);
  double total_weight = 0;
  for (const Column& column : options_.columns) total_weight += column.weight;
  double x = m.table_left;
  for (const Column& column : options_.columns) {
    const double width = m.table_width * column.weight / total_weight;
    m.x.push_back(x);
    m.width.push_back(width);
    x += width;
    const double text_width = width - 2 * kPadX;
    const int max_lines = column.max_lines > 0 ? column.max_lines : options_.max_lines_per_cell;

    PangoLayout* header = m.NewLayout(options_.font_family, size, PANGO_WEIGHT_BOLD);
    Impl::Bound(header, text_width, 3);
    pango_layout_set_alignment(header, ToPango(column.align));
    const std::string title = CellText(column.title);
    pango_layout_set_text(header, title.data(), static_cast<int>(title.size()));
    m.header_height = std::max(m.header_height, HeightOf(header) + 2 * kPadY);
    m.headers.push_back(header);

    PangoLayout* cell = m.NewLayout(options_.font_family, size, PANGO_WEIGHT_NORMAL);
    Impl::Bound(cell, text_width, max_lines);
    pango_layout_set_alignment(cell, ToPango(column.align));
    m.cells.push_back(cell);
  }

  // Footer: one line of body text at the bottom margin.
  pango_layout_set_text(m.text, "Ag", -1);
  const double line_height = HeightOf(m.text);
  m.footer_top = m.page_height - options_.margin - line_height;
  m.body_bottom = m.footer_top - line_height * 0.8;
  if (m.body_bottom - options_.margin < 4 * m.header_height) {
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPdfInvalidOptions,
                         "the PDF margins and font size leave no room for the table");
  }
  StartPage();
  return CheckCairo();
}

absl::Status TableWriter::Write(const unsigned char* data, unsigned int length) {
  if (abandoned_) return absl::OkStatus();
  if (!status_.ok()) return status_;
  pending_.append(reinterpret_cast<const char*>(data), length);
  if (pending_.size() < options_.chunk_bytes) return absl::OkStatus();
  return Flush(/*all=*/false);
}

absl::Status TableWriter::Flush(bool all) {
  const size_t chunk = options_.chunk_bytes;
  size_t offset = 0;
  while (pending_.size() - offset >= chunk || (all && offset < pending_.size())) {
    const size_t n = std::min(chunk, pending_.size() - offset);
    if (absl::Status s = sink_(absl::string_view(pending_.data() + offset, n)); !s.ok()) {
      status_ = s;
      return s;
    }
    offset += n;
    bytes_written_ += static_cast<int64_t>(n);
  }
  if (offset > 0) pending_.erase(0, offset);
  return absl::OkStatus();
}

absl::Status TableWriter::CheckCairo() {
  if (!status_.ok()) return status_;
  const cairo_status_t status = cairo_status(impl_->cr);
  if (status != CAIRO_STATUS_SUCCESS) {
    status_ = absl::InternalError(absl::StrCat("cairo: ", cairo_status_to_string(status)));
  }
  return status_;
}

double TableWriter::DrawHeaderRow(double y) {
  Impl& m = *impl_;
  cairo_t* cr = m.cr;
  SetColor(cr, kHeaderFill);
  cairo_rectangle(cr, m.table_left, y, m.table_width, m.header_height);
  cairo_fill(cr);
  SetColor(cr, kText);
  for (size_t i = 0; i < m.headers.size(); ++i) {
    cairo_move_to(cr, m.x[i] + kPadX, y + kPadY);
    pango_cairo_show_layout(cr, m.headers[i]);
  }
  SetColor(cr, kRule);
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, m.table_left, y + m.header_height);
  cairo_line_to(cr, m.table_left + m.table_width, y + m.header_height);
  cairo_stroke(cr);
  return y + m.header_height;
}

void TableWriter::StartPage() {
  Impl& m = *impl_;
  cairo_t* cr = m.cr;
  if (page_count_ > 0) cairo_show_page(cr);
  ++page_count_;
  rows_on_page_ = 0;
  double y = options_.margin;

  if (page_count_ == 1) {
    if (!options_.title.empty()) {
      const std::string title = CellText(options_.title);
      pango_layout_set_text(m.title, title.data(), static_cast<int>(title.size()));
      SetColor(cr, kText);
      cairo_move_to(cr, m.table_left, y);
      pango_cairo_show_layout(cr, m.title);
      y += HeightOf(m.title) + 2;
    }
    SetColor(cr, kMuted);
    for (const std::string& line : options_.subtitle_lines) {
      const std::string text = CellText(line);
      pango_layout_set_text(m.subtitle, text.data(), static_cast<int>(text.size()));
      cairo_move_to(cr, m.table_left, y);
      pango_cairo_show_layout(cr, m.subtitle);
      y += HeightOf(m.subtitle);
    }
    y += options_.font_size;
  }

  // Footer.
  SetColor(cr, kMuted);
  const std::string left = CellText(options_.footer.empty() ? options_.title : options_.footer);
  pango_layout_set_text(m.footer, left.data(), static_cast<int>(left.size()));
  cairo_move_to(cr, m.table_left, m.footer_top);
  pango_cairo_show_layout(cr, m.footer);
  const std::string number = CellText(absl::StrCat(options_.page_label, " ", page_count_));
  pango_layout_set_text(m.text, number.data(), static_cast<int>(number.size()));
  int number_width = 0;
  int number_height = 0;
  pango_layout_get_size(m.text, &number_width, &number_height);
  cairo_move_to(cr, m.table_left + m.table_width - static_cast<double>(number_width) / PANGO_SCALE,
                m.footer_top);
  pango_cairo_show_layout(cr, m.text);

  y_ = DrawHeaderRow(y);
}

absl::Status TableWriter::AddRow(absl::Span<const absl::string_view> cells) {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("pdf::TableWriter used after Finish()");
  Impl& m = *impl_;
  if (cells.size() != m.cells.size()) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonPdfRowMismatch,
        absl::StrCat("a row has ", cells.size(), " cells for ", m.cells.size(), " columns"));
  }
  double height = 0;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string text = CellText(cells[i]);
    pango_layout_set_text(m.cells[i], text.data(), static_cast<int>(text.size()));
    height = std::max(height, HeightOf(m.cells[i]));
  }
  height += 2 * kPadY;
  if (y_ + height > m.body_bottom && rows_on_page_ > 0) {
    StartPage();
    if (absl::Status s = CheckCairo(); !s.ok()) return s;
  }
  cairo_t* cr = m.cr;
  if (options_.zebra && rows_on_page_ % 2 == 1) {
    SetColor(cr, kZebraFill);
    cairo_rectangle(cr, m.table_left, y_, m.table_width, height);
    cairo_fill(cr);
  }
  SetColor(cr, kText);
  for (size_t i = 0; i < cells.size(); ++i) {
    cairo_move_to(cr, m.x[i] + kPadX, y_ + kPadY);
    pango_cairo_show_layout(cr, m.cells[i]);
  }
  y_ += height;
  ++rows_on_page_;
  ++rows_;
  return status_;
}

absl::Status TableWriter::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("pdf::TableWriter::Finish() called twice");
  finished_ = true;
  Impl& m = *impl_;
  if (rows_ == 0 && !options_.empty_message.empty()) {
    const std::string text = CellText(options_.empty_message);
    pango_layout_set_text(m.text, text.data(), static_cast<int>(text.size()));
    SetColor(m.cr, kMuted);
    cairo_move_to(m.cr, m.table_left + kPadX, y_ + kPadY * 2);
    pango_cairo_show_layout(m.cr, m.text);
  }
  if (absl::Status s = CheckCairo(); !s.ok()) return s;
  cairo_destroy(m.cr);
  m.cr = nullptr;
  cairo_surface_finish(m.surface);  // writes the last page, the fonts and the trailer
  if (!status_.ok()) return status_;
  const cairo_status_t status = cairo_surface_status(m.surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    status_ = absl::InternalError(absl::StrCat("cairo: ", cairo_status_to_string(status)));
    return status_;
  }
  return Flush(/*all=*/true);
}

}  // namespace kelola::pdf
