#pragma once

// A streaming CSV writer for exports (C15, R4): rows go into a buffer that is handed to a sink
// in pieces of exactly `chunk_bytes` (the last one shorter), so a million rows never sit in
// memory. Made for Excel and every other RFC 4180 reader:
//  - an optional UTF-8 byte order mark (Excel needs it to read UTF-8, e.g. Thai names);
//  - CRLF after every row, the last one included;
//  - a cell is quoted only when it contains the delimiter, a quote, CR or LF; quotes inside it
//    are doubled;
//  - formula-injection neutralization of text cells (see libs/csv/neutralize.h); program-made
//    numbers bypass it through AddNumber().
// Values are written byte for byte (the caller passes valid UTF-8).
//
// Pieces may split a row or a multi-byte character: the sink must treat them as a byte
// stream (e.g. the `bytes` of successive gRPC messages).
//
// Usage:
//   auto writer = kelola::csv::Writer::Create({}, [&](absl::string_view chunk) {
//     return stream->Write(chunk) ? absl::OkStatus() : absl::CancelledError("client gone");
//   });
//   (*writer)->WriteRow({"Name", "Phone", "Balance"});
//   (*writer)->AddText("Siti Nurhaliza");
//   (*writer)->AddText("+6281234567890");  // written as '+6281234567890
//   (*writer)->AddNumber("-5000");         // written as -5000
//   if (auto s = (*writer)->EndRow(); !s.ok()) return s;
//   return (*writer)->Finish();
//
// The first sink error is sticky: every later EndRow()/WriteRow()/Finish() returns it.
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kelola::csv {

// Receives the output; a non-OK status stops the writer.
using Sink = std::function<absl::Status(absl::string_view chunk)>;

struct WriterOptions {
  // Start the output with EF BB BF.
  bool utf8_bom = true;
  // The size of the pieces handed to the sink (at least 1).
  size_t chunk_bytes = 64 * 1024;
  // The field separator; must not be '"', CR, LF or NUL.
  char delimiter = ',';
  // Apply the formula-injection rule to text cells. Turn off only for files that are never
  // opened in a spreadsheet (e.g. a machine-readable backup).
  bool neutralize_formulas = true;
};

class Writer {
 public:
  // INVALID_ARGUMENT CSV_INVALID_OPTIONS for a bad delimiter or chunk size, or a null sink.
  static absl::StatusOr<std::unique_ptr<Writer>> Create(const WriterOptions& options, Sink sink);

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends a text cell to the current row (neutralized when it starts like a formula).
  void AddText(absl::string_view value);
  // Appends a number made by the program, e.g. "-5000" or "1234.50": written as is when it is a
  // plain decimal (IsPlainNumber()), otherwise handled like AddText(). Never pass user input.
  void AddNumber(absl::string_view value);
  void AddInteger(int64_t value);
  // Ends the current row (CRLF) and hands full pieces to the sink.
  absl::Status EndRow();
  // A whole row of text cells.
  absl::Status WriteRow(absl::Span<const absl::string_view> cells);
  absl::Status WriteRow(std::initializer_list<absl::string_view> cells) {
    return WriteRow(absl::MakeConstSpan(cells.begin(), cells.size()));
  }
  // Ends an unfinished row, hands the rest to the sink. FAILED_PRECONDITION when called twice.
  absl::Status Finish();

  int64_t rows_written() const { return rows_; }
  // Bytes handed to the sink so far.
  int64_t bytes_written() const { return bytes_written_; }

 private:
  Writer(const WriterOptions& options, Sink sink);

  void BeginCell();
  // Appends `value`, quoted when needed, after an apostrophe when `apostrophe`.
  void AppendCell(absl::string_view value, bool apostrophe);
  absl::Status Flush(bool all);

  const WriterOptions options_;
  Sink sink_;
  std::string buffer_;
  size_t cells_in_row_ = 0;
  int64_t rows_ = 0;
  int64_t bytes_written_ = 0;
  bool finished_ = false;
  absl::Status status_;
};

}  // namespace kelola::csv
