#include "libs/csv/writer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/csv/neutralize.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"

namespace kelola::csv {

absl::StatusOr<std::unique_ptr<Writer>> Writer::Create(const WriterOptions& options, Sink sink) {
  const char d = options.delimiter;
  if (d == '"' || d == '\r' || d == '\n' || d == '\0' || options.chunk_bytes == 0 || !sink) {
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonCsvInvalidOptions,
                         "CSV writer: the delimiter must not be a quote, CR, LF or NUL, the "
                         "chunk size must be positive and the sink set");
  }
  return std::unique_ptr<Writer>(new Writer(options, std::move(sink)));
}

Writer::Writer(const WriterOptions& options, Sink sink)
    : options_(options), sink_(std::move(sink)) {
  buffer_.reserve(options_.chunk_bytes + 4096);
  if (options_.utf8_bom) buffer_.append("\xEF\xBB\xBF");
}

void Writer::BeginCell() {
  if (cells_in_row_++ > 0) buffer_.push_back(options_.delimiter);
}

void Writer::AppendCell(absl::string_view value, bool apostrophe) {
  const char d = options_.delimiter;
  bool quote = false;
  for (char c : value) {
    if (c == d || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    if (apostrophe) buffer_.push_back('\'');
    buffer_.append(value.data(), value.size());
    return;
  }
  buffer_.push_back('"');
  if (apostrophe) buffer_.push_back('\'');
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '"') continue;
    buffer_.append(value.data() + start, i + 1 - start);
    buffer_.push_back('"');
    start = i + 1;
  }
  buffer_.append(value.data() + start, value.size() - start);
  buffer_.push_back('"');
}

void Writer::AddText(absl::string_view value) {
  BeginCell();
  AppendCell(value, options_.neutralize_formulas && NeedsNeutralization(value));
}

void Writer::AddNumber(absl::string_view value) {
  if (!IsPlainNumber(value)) {
    AddText(value);
    return;
  }
  BeginCell();
  buffer_.append(value.data(), value.size());
}

void Writer::AddInteger(int64_t value) {
  BeginCell();
  absl::StrAppend(&buffer_, value);
}

absl::Status Writer::Flush(bool all) {
  const size_t chunk = options_.chunk_bytes;
  size_t offset = 0;
  while (buffer_.size() - offset >= chunk || (all && offset < buffer_.size())) {
    const size_t n = std::min(chunk, buffer_.size() - offset);
    absl::Status s = sink_(absl::string_view(buffer_.data() + offset, n));
    if (!s.ok()) {
      status_ = s;
      return s;
    }
    offset += n;
    bytes_written_ += static_cast<int64_t>(n);
  }
  if (offset > 0) buffer_.erase(0, offset);
  return absl::OkStatus();
}

absl::Status Writer::EndRow() {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("csv::Writer used after Finish()");
  buffer_.append("\r\n");
  cells_in_row_ = 0;
  ++rows_;
  if (buffer_.size() < options_.chunk_bytes) return absl::OkStatus();
  return Flush(/*all=*/false);
}

absl::Status Writer::WriteRow(absl::Span<const absl::string_view> cells) {
  for (absl::string_view cell : cells) AddText(cell);
  return EndRow();
}

absl::Status Writer::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return absl::FailedPreconditionError("csv::Writer::Finish() called twice");
  if (cells_in_row_ > 0) {
    if (absl::Status s = EndRow(); !s.ok()) return s;
  }
  finished_ = true;
  return Flush(/*all=*/true);
}

}  // namespace kelola::csv
