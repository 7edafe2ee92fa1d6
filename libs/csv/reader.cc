#include "libs/csv/reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/csv/utf8.h"
#include "libs/errors/errors.h"

namespace kelola::csv {
namespace {

using ::kelola::errors::Error;

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr char kEncodingHint[] =
    "save the file as \"CSV UTF-8\"; other encodings such as Windows-874/TIS-620 or "
    "Windows-1252 are not supported";

bool IsValidDelimiter(char c) { return c != '"' && c != '\r' && c != '\n' && c != '\0'; }

}  // namespace

bool Record::IsBlank() const {
  for (const std::string& field : fields) {
    for (char c : field) {
      if (c != ' ' && c != '\t') return false;
    }
  }
  return true;
}

absl::StatusOr<std::unique_ptr<Reader>> Reader::Create(const ReaderOptions& options) {
  if (!IsValidDelimiter(options.delimiter)) {
    return Error(absl::StatusCode::kInvalidArgument, kReasonCsvInvalidOptions,
                 "the CSV delimiter must not be a quote, CR, LF or NUL");
  }
  if (options.max_field_bytes == 0 || options.max_record_bytes == 0 ||
      options.max_fields_per_record == 0 || options.max_records < 0 ||
      options.max_input_bytes < 0) {
    return Error(absl::StatusCode::kInvalidArgument, kReasonCsvInvalidOptions,
                 "CSV reader limits must be positive (0 means unlimited only for "
                 "max_records and max_input_bytes)");
  }
  return std::unique_ptr<Reader>(new Reader(options));
}

Reader::Reader(const ReaderOptions& options) : options_(options), delimiter_(options.delimiter) {}

absl::Status Reader::Fail(absl::Status status) {
  status_ = std::move(status);
  return status_;
}

absl::Status Reader::Feed(absl::string_view bytes) {
  if (!status_.ok()) return status_;
  if (finished_) {
    return absl::FailedPreconditionError("csv::Reader::Feed() called after Finish()");
  }
  bytes_fed_ += static_cast<int64_t>(bytes.size());
  if (options_.max_input_bytes > 0 && bytes_fed_ > options_.max_input_bytes) {
    return Fail(Error(
        absl::StatusCode::kResourceExhausted, kReasonCsvInputTooLarge,
        absl::StrCat("the file is larger than the limit of ", options_.max_input_bytes, " bytes"),
        {{"line", absl::StrCat(line_)}, {"limit", absl::StrCat(options_.max_input_bytes)}}));
  }
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
  return absl::OkStatus();
}

void Reader::Finish() { finished_ = true; }

absl::StatusOr<bool> Reader::Prepare() {
  if (!bom_checked_) {
    const size_t available = buffer_.size() - pos_;
    if (available < kUtf8Bom.size() && !finished_) return false;
    const absl::string_view head(buffer_.data() + pos_, available);
    if (absl::StartsWith(head, kUtf8Bom)) {
      pos_ += kUtf8Bom.size();
    } else if (absl::StartsWith(head, "\xFF\xFE") || absl::StartsWith(head, "\xFE\xFF")) {
      return Error(absl::StatusCode::kInvalidArgument, kReasonCsvUnsupportedEncoding,
                   absl::StrCat("line 1: the file is UTF-16 (\"Unicode Text\"); ", kEncodingHint),
                   {{"line", "1"}});
    }
    bom_checked_ = true;
  }
  if (options_.detect_delimiter) {
    // Find the end of the first line (outside quotes).
    const char* data = buffer_.data();
    bool in_quotes = false;
    size_t end = pos_;
    for (; end < buffer_.size(); ++end) {
      const char c = data[end];
      if (c == '"') in_quotes = !in_quotes;
      if (!in_quotes && (c == '\n' || c == '\r')) break;
    }
    if (end == buffer_.size() && !finished_ && end - pos_ <= options_.max_record_bytes) {
      return false;  // the first line is not complete yet
    }
    // A first line longer than a record may be is read up to that size only (it is refused
    // later anyway), so that the choice never depends on how much of it has arrived.
    const absl::string_view first_line(data + pos_,
                                       std::min(end - pos_, options_.max_record_bytes));
    if (end - pos_ == 5 && first_line.size() == 5 && absl::StartsWith(first_line, "sep=") &&
        IsValidDelimiter(first_line[4])) {
      // Excel's delimiter hint; the line is not a record.
      delimiter_ = first_line[4];
      pos_ = end;
      if (pos_ < buffer_.size()) {
        after_cr_ = data[pos_] == '\r';
        ++pos_;
        ++line_;
      }
    } else {
      size_t counts[3] = {0, 0, 0};
      constexpr char kCandidates[3] = {',', ';', '\t'};
      in_quotes = false;
      for (char c : first_line) {
        if (c == '"') in_quotes = !in_quotes;
        if (in_quotes) continue;
        for (int i = 0; i < 3; ++i) counts[i] += (c == kCandidates[i]);
      }
      size_t best = 0;
      for (int i = 0; i < 3; ++i) {
        if (counts[i] > best) {
          best = counts[i];
          delimiter_ = kCandidates[i];
        }
      }
      // The configured delimiter wins a tie.
      for (int i = 0; i < 3; ++i) {
        if (best > 0 && counts[i] == best && kCandidates[i] == options_.delimiter) {
          delimiter_ = options_.delimiter;
        }
      }
    }
  }
  prepared_ = true;
  return true;
}

absl::Status Reader::StartField() {
  if (field_count_ >= options_.max_fields_per_record) {
    return Error(absl::StatusCode::kInvalidArgument, kReasonCsvTooManyFields,
                 absl::StrCat("line ", record_line_, ": the record has more than ",
                              options_.max_fields_per_record, " fields"),
                 {{"line", absl::StrCat(record_line_)},
                  {"limit", absl::StrCat(options_.max_fields_per_record)}});
  }
  if (field_count_ < fields_.size()) {
    fields_[field_count_].clear();
  } else {
    fields_.emplace_back();
  }
  field_ = &fields_[field_count_++];
  field_line_ = line_;
  return absl::OkStatus();
}

absl::Status Reader::FieldTooLarge() const {
  return Error(
      absl::StatusCode::kInvalidArgument, kReasonCsvFieldTooLarge,
      absl::StrCat("line ", field_line_, ": field ", field_count_, " is longer than the limit of ",
                   options_.max_field_bytes, " bytes (is a quote left open?)"),
      {{"line", absl::StrCat(field_line_)},
       {"column", absl::StrCat(field_count_)},
       {"limit", absl::StrCat(options_.max_field_bytes)}});
}

absl::Status Reader::RecordTooLarge() const {
  return Error(
      absl::StatusCode::kInvalidArgument, kReasonCsvRecordTooLarge,
      absl::StrCat("line ", record_line_, ": the record is longer than the limit of ",
                   options_.max_record_bytes, " bytes"),
      {{"line", absl::StrCat(record_line_)}, {"limit", absl::StrCat(options_.max_record_bytes)}});
}

absl::Status Reader::EndField() {
  const size_t bad = FindInvalidUtf8(*field_);
  if (bad == absl::string_view::npos) return absl::OkStatus();
  // The line of the offending byte: the field may span lines.
  int64_t line = field_line_;
  const std::string& value = *field_;
  for (size_t i = 0; i < bad; ++i) {
    if (value[i] == '\n' && !(i > 0 && value[i - 1] == '\r')) ++line;
    if (value[i] == '\r') ++line;
  }
  const bool nul = value[bad] == '\0';
  return Error(
      absl::StatusCode::kInvalidArgument, kReasonCsvInvalidUtf8,
      absl::StrCat("line ", line, ", field ", field_count_, ": ",
                   nul ? "a NUL byte (is the file UTF-16?)" : "the bytes are not valid UTF-8", "; ",
                   kEncodingHint),
      {{"line", absl::StrCat(line)}, {"column", absl::StrCat(field_count_)}});
}

absl::Status Reader::EndRecord(Record* record) {
  if (absl::Status s = EndField(); !s.ok()) return s;
  if (options_.max_records > 0 && records_ >= options_.max_records) {
    return Error(
        absl::StatusCode::kResourceExhausted, kReasonCsvTooManyRecords,
        absl::StrCat("line ", record_line_, ": the file has more than the limit of ",
                     options_.max_records, " rows"),
        {{"line", absl::StrCat(record_line_)}, {"limit", absl::StrCat(options_.max_records)}});
  }
  fields_.resize(field_count_);
  record->fields.swap(fields_);
  record->line = record_line_;
  record->index = records_++;
  field_count_ = 0;
  field_ = nullptr;
  state_ = State::kRecordStart;
  return absl::OkStatus();
}

absl::StatusOr<bool> Reader::Next(Record* record) {
  if (!status_.ok()) return status_;
  if (done_) return false;
  if (!prepared_) {
    absl::StatusOr<bool> ready = Prepare();
    if (!ready.ok()) return Fail(ready.status());
    if (!*ready) return false;
  }
  const char* const data = buffer_.data();
  const size_t size = buffer_.size();
  const char delimiter = delimiter_;
  const size_t max_field = options_.max_field_bytes;
  const size_t max_record = options_.max_record_bytes;

  // Appends data[pos_, end) to the current field, within the limits. When a limit is
  // broken, the error names the one the first byte too many breaks (the field's on a tie),
  // so that it does not depend on how the input was cut into chunks.
  auto append = [&](size_t end) -> absl::Status {
    const size_t n = end - pos_;
    const size_t field_room = max_field - field_->size();
    const size_t record_room = max_record - record_bytes_;
    if (n > field_room || n > record_room) {
      return field_room <= record_room ? FieldTooLarge() : RecordTooLarge();
    }
    record_bytes_ += n;
    field_->append(data + pos_, n);
    pos_ = end;
    return absl::OkStatus();
  };

  while (pos_ < size) {
    switch (state_) {
      case State::kRecordStart: {
        const char c = data[pos_];
        if (c == '\n' || c == '\r') {
          ++pos_;
          if (c == '\n' && after_cr_) {  // the LF of a CRLF that ended the previous line
            after_cr_ = false;
            continue;
          }
          after_cr_ = c == '\r';
          ++line_;
          if (options_.skip_empty_lines) continue;
          record_line_ = line_ - 1;
          record_bytes_ = 1;
          if (absl::Status s = StartField(); !s.ok()) return Fail(s);
          if (absl::Status s = EndRecord(record); !s.ok()) return Fail(s);
          return true;
        }
        after_cr_ = false;
        record_line_ = line_;
        record_bytes_ = 0;
        if (absl::Status s = StartField(); !s.ok()) return Fail(s);
        state_ = State::kFieldStart;
        break;
      }
      case State::kFieldStart:
        if (data[pos_] == '"') {
          ++pos_;
          state_ = State::kQuoted;
        } else {
          state_ = State::kUnquoted;
        }
        break;
      case State::kUnquoted: {
        size_t end = pos_;
        while (end < size) {
          const char c = data[end];
          if (c == delimiter || c == '\n' || c == '\r') break;
          ++end;
        }
        if (end > pos_) {
          if (absl::Status s = append(end); !s.ok()) return Fail(s);
        }
        if (pos_ == size) break;
        const char c = data[pos_++];
        if (++record_bytes_ > max_record) return Fail(RecordTooLarge());
        if (c == delimiter) {
          if (absl::Status s = EndField(); !s.ok()) return Fail(s);
          if (absl::Status s = StartField(); !s.ok()) return Fail(s);
          state_ = State::kFieldStart;
          break;
        }
        ++line_;
        after_cr_ = c == '\r';
        if (absl::Status s = EndRecord(record); !s.ok()) return Fail(s);
        return true;
      }
      case State::kQuoted: {
        size_t end = pos_;
        while (end < size) {
          const char c = data[end];
          if (c == '"' || c == '\n' || c == '\r') break;
          ++end;
        }
        if (end > pos_) {
          if (absl::Status s = append(end); !s.ok()) return Fail(s);
          after_cr_ = false;
        }
        if (pos_ == size) break;
        const char c = data[pos_];
        if (c == '"') {
          ++pos_;
          state_ = State::kQuoteInQuoted;
          break;
        }
        if (c == '\r' || !after_cr_) ++line_;
        after_cr_ = c == '\r';
        if (absl::Status s = append(pos_ + 1); !s.ok()) return Fail(s);
        break;
      }
      case State::kQuoteInQuoted: {
        const char c = data[pos_];
        if (c == '"') {  // a doubled quote stands for one quote
          if (absl::Status s = append(pos_ + 1); !s.ok()) return Fail(s);
          after_cr_ = false;
          state_ = State::kQuoted;
        } else if (c == delimiter || c == '\n' || c == '\r') {
          state_ = State::kUnquoted;  // ends the field at once
        } else {
          return Fail(
              Error(absl::StatusCode::kInvalidArgument, kReasonCsvBadQuote,
                    absl::StrCat("line ", line_, ", field ", field_count_,
                                 ": unexpected character after a closing quote (a "
                                 "quote inside a quoted field must be doubled: \"\")"),
                    {{"line", absl::StrCat(line_)}, {"column", absl::StrCat(field_count_)}}));
        }
        break;
      }
    }
  }

  if (!finished_) return false;
  switch (state_) {
    case State::kRecordStart:
      done_ = true;
      buffer_.clear();
      pos_ = 0;
      return false;
    case State::kQuoted:
      return Fail(
          Error(absl::StatusCode::kInvalidArgument, kReasonCsvUnterminatedQuote,
                absl::StrCat("line ", field_line_, ", field ", field_count_,
                             ": the quote opened here is never closed"),
                {{"line", absl::StrCat(field_line_)}, {"column", absl::StrCat(field_count_)}}));
    default:
      if (absl::Status s = EndRecord(record); !s.ok()) return Fail(s);
      return true;
  }
}

}  // namespace kelola::csv
