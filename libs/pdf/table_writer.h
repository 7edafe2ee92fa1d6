#pragma once

// A paginated table as a PDF document, for printing exports (C15) and reports (R4), written with
// cairo's PDF surface and laid out with pango (shaped text: Thai, I5).
//
// Streaming: the surface writes through a callback (cairo_pdf_surface_create_for_stream); each
// finished page is emitted when the next one starts, and the bytes are handed to the sink in
// pieces of `chunk_bytes`. Memory stays bounded by one page plus the font subsets, whatever the
// number of rows (the fonts, the page tree and the cross-reference table are written by
// Finish()). Because pages leave before the end is known, the footer says "Page N", not
// "Page N / M".
//
// Layout: A4 portrait or landscape; on the first page a title and subtitle lines (the caller
// formats them: filters applied, generation time in the tenant's time zone, ...); on every page
// the column headers (bold, shaded) and a footer with `footer` (or the title) on the left and
// "<page_label> N" on the right. Column widths are proportional to their weights. A cell is one
// paragraph (line breaks and other control characters become spaces) that wraps at word
// boundaries (or inside a word that does not fit) onto at most `max_lines` lines; the last line
// ends with "…" when the text is longer. Rows are shaded alternately. Numbers and money are
// right-aligned with Align::kRight.
//
// Usage:
//   kelola::pdf::TableOptions options;
//   options.title = "Pelanggan";
//   options.subtitle_lines = {"Filter: kategori = VIP", "Dibuat 24 Nov 2026 10:50 WIB"};
//   options.columns = {{"Nama", 3}, {"Telepon", 2}, {"Saldo", 1.5, kelola::pdf::Align::kRight}};
//   options.page_label = "Halaman";
//   auto writer = kelola::pdf::TableWriter::Create(options, sink);
//   for (...) if (auto s = (*writer)->AddRow({name, phone, balance}); !s.ok()) return s;
//   return (*writer)->Finish();
//
// The first sink error is sticky: every later call returns it. Not thread-safe, but a writer
// may be used by one thread after another (it has its own pango font map), and separate
// writers may run on separate threads at once.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kelola::pdf {

// Machine-readable reasons.
inline constexpr char kReasonPdfInvalidOptions[] = "PDF_INVALID_OPTIONS";
// AddRow() with a number of cells other than the number of columns.
inline constexpr char kReasonPdfRowMismatch[] = "PDF_ROW_MISMATCH";

// Receives the document; a non-OK status stops the writer.
using Sink = std::function<absl::Status(absl::string_view chunk)>;

// Family list used by default: Latin from Noto Sans, Thai from Noto Sans Thai, then the TLW
// Thai fonts and fontconfig's sans-serif (Debian: fonts-noto-core, fonts-thai-tlwg).
inline constexpr char kDefaultFontFamily[] = "Noto Sans, Noto Sans Thai, Loma, Garuda, sans-serif";

enum class Orientation { kPortrait, kLandscape };
enum class Align { kLeft, kCenter, kRight };

struct Column {
  std::string title;
  // Share of the table width (> 0).
  double weight = 1.0;
  Align align = Align::kLeft;
  // Lines a cell may wrap onto (0..10); 0 = TableOptions::max_lines_per_cell.
  int max_lines = 0;
};

struct TableOptions {
  Orientation orientation = Orientation::kPortrait;
  // On the first page; wraps onto 2 lines at most.
  std::string title;
  // Below the title, at most 10; each wraps onto 3 lines at most.
  std::vector<std::string> subtitle_lines;
  std::vector<Column> columns;
  // A pango family list (comma-separated); pango falls back per character along it.
  std::string font_family = kDefaultFontFamily;
  // Body text size in points, 4..36 (the title is 1.6 times larger).
  double font_size = 8.5;
  // Page margin in points on every side.
  double margin = 36;
  // 1..10.
  int max_lines_per_cell = 2;
  // "Page", "Halaman", "หน้า".
  std::string page_label = "Page";
  // Left part of every footer (one line); the title when empty.
  std::string footer;
  // Shown in the table area when no row was added; nothing when empty.
  std::string empty_message;
  // Shade every other row.
  bool zebra = true;
  // Size of the pieces handed to the sink.
  size_t chunk_bytes = 64 * 1024;
  // Document properties (PDF Info dictionary).
  std::string author;
  std::string creator = "Kelola";
};

class TableWriter {
 public:
  // INVALID_ARGUMENT PDF_INVALID_OPTIONS for no columns, a weight <= 0, a font size or margin
  // that leaves no room, a null sink; INTERNAL when cairo cannot create the surface.
  static absl::StatusOr<std::unique_ptr<TableWriter>> Create(const TableOptions& options,
                                                             Sink sink);
  // Abandons an unfinished document (nothing more reaches the sink).
  ~TableWriter();
  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;

  // Adds a row (one cell per column, UTF-8; invalid bytes are shown as U+FFFD). Starts a new
  // page when the row does not fit; the finished page goes to the sink.
  absl::Status AddRow(absl::Span<const absl::string_view> cells);
  absl::Status AddRow(std::initializer_list<absl::string_view> cells) {
    return AddRow(absl::MakeConstSpan(cells.begin(), cells.size()));
  }
  // Writes the last page and the document trailer. FAILED_PRECONDITION when called twice.
  absl::Status Finish();

  // Pages started so far.
  int page_count() const { return page_count_; }
  int64_t rows() const { return rows_; }
  // Bytes handed to the sink so far.
  int64_t bytes_written() const { return bytes_written_; }

 private:
  struct Impl;

  TableWriter(const TableOptions& options, Sink sink);
  absl::Status Init();
  void StartPage();
  double DrawHeaderRow(double y);
  absl::Status CheckCairo();
  absl::Status Write(const unsigned char* data, unsigned int length);
  absl::Status Flush(bool all);

  const TableOptions options_;
  Sink sink_;
  std::unique_ptr<Impl> impl_;
  std::string pending_;  // bytes from cairo not yet handed to the sink
  absl::Status status_;
  bool finished_ = false;
  bool abandoned_ = false;
  int page_count_ = 0;
  int rows_on_page_ = 0;
  int64_t rows_ = 0;
  int64_t bytes_written_ = 0;
  double y_ = 0;  // top of the next row on the current page
};

}  // namespace kelola::pdf
