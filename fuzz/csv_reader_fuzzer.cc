// Fuzzes the streaming CSV reader (imports, C14) with arbitrary bytes, and checks that the
// records and the error do not depend on how the input is cut into chunks.
//
// Input: byte 0 picks the options, byte 1 the chunk sizes, the rest is the file.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"

namespace {

// Code, message, reason and metadata of an error (not Status::ToString(): the order of the
// metadata in its payload is not stable).
std::string Describe(const absl::Status& status) {
  std::string out = status.ToString(absl::StatusToStringMode::kWithNoExtraData);
  absl::StrAppend(&out, " reason=", kelola::errors::Reason(status));
  for (const auto& [key, value] : kelola::errors::GetMetadata(status)) {
    absl::StrAppend(&out, " ", key, "=", value);
  }
  return out;
}

struct Outcome {
  std::vector<kelola::csv::Record> records;
  std::string error;  // "" when the input was read to its end
};

// Reads `input` fed in chunks of the given sizes (cycled), draining after every chunk.
Outcome Read(const kelola::csv::ReaderOptions& options, absl::string_view input,
             const std::vector<size_t>& chunks) {
  Outcome out;
  auto reader = kelola::csv::Reader::Create(options);
  FUZZ_CHECK(reader.ok());
  kelola::csv::Record record;
  auto drain = [&]() -> bool {
    while (true) {
      absl::StatusOr<bool> next = (*reader)->Next(&record);
      if (!next.ok()) {
        out.error = Describe(next.status());
        return false;
      }
      if (!*next) return true;
      FUZZ_CHECK(record.line >= 1 && record.index == static_cast<int64_t>(out.records.size()));
      out.records.push_back(record);
    }
  };
  for (size_t at = 0, i = 0; at < input.size(); ++i) {
    const size_t n = std::min(chunks[i % chunks.size()], input.size() - at);
    if (absl::Status fed = (*reader)->Feed(input.substr(at, n)); !fed.ok()) {
      out.error = Describe(fed);
      return out;
    }
    at += n;
    if (!drain()) return out;
  }
  (*reader)->Finish();
  if (drain()) FUZZ_CHECK((*reader)->done());
  return out;
}

bool Same(const Outcome& a, const Outcome& b) {
  if (a.error != b.error || a.records.size() != b.records.size()) return false;
  for (size_t i = 0; i < a.records.size(); ++i) {
    if (a.records[i].line != b.records[i].line || a.records[i].fields != b.records[i].fields) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const uint8_t cut = data[1];
  const absl::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

  kelola::csv::ReaderOptions options;
  options.delimiter = ",;\t|"[flags & 3];
  options.detect_delimiter = (flags & 4) != 0;
  options.skip_empty_lines = (flags & 8) != 0;
  if (flags & 16) {  // small limits, so that every limit is reached
    options.max_field_bytes = 8;
    options.max_record_bytes = 32;
    options.max_fields_per_record = 4;
    options.max_records = 6;
  }

  const Outcome whole = Read(options, input, {input.size() + 1});
  const Outcome split =
      Read(options, input, {1u + cut % 5, 1u + cut / 5 % 3, 1u + cut / 15 % 7, 1});
  if (!Same(whole, split)) {
    std::fprintf(stderr,
                 "chunking changed the result:\n  whole: %zu records, %s\n  split: %zu "
                 "records, %s\n",
                 whole.records.size(), whole.error.c_str(), split.records.size(),
                 split.error.c_str());
    std::abort();
  }
  return 0;
}
