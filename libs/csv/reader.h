#pragma once

// A streaming CSV reader (RFC 4180) for imports (C14): it is fed the bytes of a file in
// chunks of any size, as they arrive from a client-streaming RPC, and yields one record at a
// time with the line it starts on. Memory is bounded by the limits below, never by the size of
// the file.
//
// What it accepts:
//  - fields separated by `delimiter` (',' by default; ';' and TAB are common in files saved
//    by Excel in Indonesian locales, see `detect_delimiter`);
//  - quoted fields ("a, b"), doubled quotes inside them ("say ""hi"""), and line breaks
//    inside them;
//  - CRLF, LF and lone CR line ends, mixed freely; a line end after the last record is
//    optional; completely empty lines are skipped (see `skip_empty_lines`);
//  - a UTF-8 byte order mark at the very start (stripped);
//  - an Excel "sep=;" first line when `detect_delimiter` is set.
//
// What it refuses (each error is sticky: every later call returns it again):
//  - bytes that are not UTF-8 (or a NUL byte), or a UTF-16 byte order mark:
//    INVALID_ARGUMENT CSV_INVALID_UTF8 / CSV_UNSUPPORTED_ENCODING naming the line;
//  - a character other than a delimiter or line end right after a closing quote
//    ("ab"c): INVALID_ARGUMENT CSV_BAD_QUOTE. A quote inside an unquoted field (ab"c) is
//    taken literally, as Excel does;
//  - a quoted field still open at the end of the input: INVALID_ARGUMENT
//    CSV_UNTERMINATED_QUOTE naming the line where it was opened;
//  - a field, a record or a field count above its limit: INVALID_ARGUMENT
//    CSV_FIELD_TOO_LARGE / CSV_RECORD_TOO_LARGE / CSV_TOO_MANY_FIELDS (the input is malformed
//    or is not the kind of file expected);
//  - more input bytes or records than allowed: RESOURCE_EXHAUSTED CSV_INPUT_TOO_LARGE /
//    CSV_TOO_MANY_RECORDS (a volume quota).
// Every error carries the metadata "line" (1-based) and, where it applies, "column" (the
// 1-based field number) and "limit".
//
// Values are text, byte for byte: no trimming, no number parsing, so "0812345678" and
// "12345678901234567890" keep their leading zeros and digits.
//
// Usage:
//   auto reader = kelola::csv::Reader::Create({});
//   kelola::csv::Record record;
//   for (each chunk) {
//     if (auto s = (*reader)->Feed(chunk); !s.ok()) return s;
//     while (true) {
//       absl::StatusOr<bool> next = (*reader)->Next(&record);
//       if (!next.ok()) return next.status();
//       if (!*next) break;  // needs more input
//       Use(record.line, record.fields);
//     }
//   }
//   (*reader)->Finish();  // only if the input ended normally, not when it was cut
//   ... drain with Next() the same way; false now means the end.
//
// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::csv {

// Machine-readable reasons (kelola::errors::Reason()).
inline constexpr char kReasonCsvInvalidUtf8[] = "CSV_INVALID_UTF8";
inline constexpr char kReasonCsvUnsupportedEncoding[] = "CSV_UNSUPPORTED_ENCODING";
inline constexpr char kReasonCsvBadQuote[] = "CSV_BAD_QUOTE";
inline constexpr char kReasonCsvUnterminatedQuote[] = "CSV_UNTERMINATED_QUOTE";
inline constexpr char kReasonCsvFieldTooLarge[] = "CSV_FIELD_TOO_LARGE";
inline constexpr char kReasonCsvRecordTooLarge[] = "CSV_RECORD_TOO_LARGE";
inline constexpr char kReasonCsvTooManyFields[] = "CSV_TOO_MANY_FIELDS";
inline constexpr char kReasonCsvTooManyRecords[] = "CSV_TOO_MANY_RECORDS";
inline constexpr char kReasonCsvInputTooLarge[] = "CSV_INPUT_TOO_LARGE";
// Options out of range, or Feed() after Finish() (programming errors).
inline constexpr char kReasonCsvInvalidOptions[] = "CSV_INVALID_OPTIONS";

struct ReaderOptions {
  // The field separator. Must not be '"', CR or LF.
  char delimiter = ',';
  // When true, the first line decides the delimiter: an Excel "sep=X" line (which is then
  // skipped, but still counts as line 1), else whichever of ',', ';' and TAB occurs most often
  // outside quotes in the first line (its first `max_record_bytes` bytes), `delimiter` on a
  // tie or when none occurs.
  bool detect_delimiter = false;
  // Completely empty lines (no bytes between two line ends) are skipped. When false, each
  // becomes a record with one empty field, as RFC 4180 reads it.
  bool skip_empty_lines = true;

  // Limits. Bytes are counted after unquoting (a field's value), line ends included in records.
  size_t max_field_bytes = 64 * 1024;
  size_t max_record_bytes = 1024 * 1024;
  size_t max_fields_per_record = 1000;
  // Records yielded, the header line included. 0 = no limit.
  int64_t max_records = 0;
  // Bytes passed to Feed() in total, the byte order mark included. 0 = no limit.
  int64_t max_input_bytes = 0;
};

struct Record {
  // The 1-based line of the input on which the record starts (a record with a quoted line
  // break spans several lines).
  int64_t line = 0;
  // The 0-based position of the record in the input: 0 for the header line.
  int64_t index = 0;
  std::vector<std::string> fields;

  // True when every field is empty or only spaces and tabs, e.g. ",,," rows that
  // spreadsheets leave below the data.
  bool IsBlank() const;
};

class Reader {
 public:
  // INVALID_ARGUMENT CSV_INVALID_OPTIONS for a bad delimiter or a zero size limit.
  static absl::StatusOr<std::unique_ptr<Reader>> Create(const ReaderOptions& options);

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Appends the next bytes of the input; they are parsed by Next(). Chunks may split records,
  // quoted fields, CRLF pairs and multi-byte characters anywhere. RESOURCE_EXHAUSTED
  // CSV_INPUT_TOO_LARGE past `max_input_bytes`; FAILED_PRECONDITION after Finish().
  absl::Status Feed(absl::string_view bytes);

  // Declares the end of the input: Next() then yields the last record even without a line end.
  // Call it only when the input ended normally (e.g. the client half-closed its stream). An
  // input that was cut (a cancelled call, a lost connection) must not be finished: the bytes
  // after its last line end may be a truncated record, which Finish() would yield as if it
  // were whole. See has_partial_record().
  void Finish();

  // Parses the next record into `record` (its vectors and strings are reused, so pass the same
  // Record each time to avoid allocations) and returns true; or returns false when the bytes
  // fed so far hold no complete record (before Finish()) or when the input is exhausted
  // (after Finish()); or an error (see the top of this file).
  absl::StatusOr<bool> Next(Record* record);

  // True after Finish() once Next() has returned false.
  bool done() const { return done_; }
  // Once Next() has returned false before Finish(): true when bytes have been fed that belong
  // to no record yielded yet, i.e. an unterminated record (or an incomplete first line) that
  // only Finish() would turn into a record.
  bool has_partial_record() const { return state_ != State::kRecordStart || pos_ < buffer_.size(); }
  // The delimiter in use (after detection, once the first line has been seen).
  char delimiter() const { return delimiter_; }
  int64_t records_read() const { return records_; }
  int64_t bytes_fed() const { return bytes_fed_; }

 private:
  enum class State { kRecordStart, kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };

  explicit Reader(const ReaderOptions& options);

  // Strips the byte order mark and detects the delimiter; false when more input is needed.
  absl::StatusOr<bool> Prepare();
  absl::Status DetectDelimiter();
  absl::Status StartField();
  absl::Status EndField();
  absl::Status EndRecord(Record* record);
  absl::Status Fail(absl::Status status);
  absl::Status FieldTooLarge() const;
  absl::Status RecordTooLarge() const;

  const ReaderOptions options_;
  char delimiter_;

  std::string buffer_;  // bytes fed and not yet consumed start at pos_
  size_t pos_ = 0;
  bool finished_ = false;
  bool done_ = false;
  bool bom_checked_ = false;
  bool prepared_ = false;  // byte order mark and delimiter done
  absl::Status status_;    // sticky error

  int64_t bytes_fed_ = 0;
  int64_t records_ = 0;
  int64_t line_ = 1;       // line of the next byte to consume
  bool after_cr_ = false;  // the last byte consumed was a CR (a following LF ends no line)

  State state_ = State::kRecordStart;
  std::vector<std::string> fields_;  // the record being parsed; fields_[0, field_count_)
  size_t field_count_ = 0;
  std::string* field_ = nullptr;
  size_t record_bytes_ = 0;
  int64_t record_line_ = 0;
  int64_t field_line_ = 0;
};

}  // namespace kelola::csv
