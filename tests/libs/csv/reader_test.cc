#include "libs/csv/reader.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::csv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Row {
  int64_t line;
  std::vector<std::string> fields;
  bool operator==(const Row& o) const { return line == o.line && fields == o.fields; }
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
  os << "line " << row.line << ":";
  for (const auto& f : row.fields) os << " [" << f << "]";
  return os;
}

// Feeds `input` in pieces of `chunk` bytes (0 = all at once), draining after each.
absl::StatusOr<std::vector<Row>> ReadAll(absl::string_view input, ReaderOptions options = {},
                                         size_t chunk = 0) {
  absl::StatusOr<std::unique_ptr<Reader>> reader = Reader::Create(options);
  if (!reader.ok()) return reader.status();
  std::vector<Row> rows;
  Record record;
  int64_t expected_index = 0;
  auto drain = [&]() -> absl::Status {
    while (true) {
      absl::StatusOr<bool> next = (*reader)->Next(&record);
      if (!next.ok()) return next.status();
      if (!*next) return absl::OkStatus();
      if (record.index != expected_index++) return absl::InternalError("bad index");
      rows.push_back({record.line, record.fields});
    }
  };
  if (chunk == 0) chunk = input.size() + 1;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    if (absl::Status s = (*reader)->Feed(input.substr(pos, chunk)); !s.ok()) return s;
    if (absl::Status s = drain(); !s.ok()) return s;
  }
  (*reader)->Finish();
  if (absl::Status s = drain(); !s.ok()) return s;
  if (!(*reader)->done()) return absl::InternalError("not done");
  return rows;
}

// Every chunking gives the same result as one piece.
void ExpectSameForEveryChunking(absl::string_view input, const ReaderOptions& options = {}) {
  auto whole = ReadAll(input, options);
  for (size_t chunk : {1, 2, 3, 5, 7, 64}) {
    auto pieces = ReadAll(input, options, chunk);
    ASSERT_EQ(whole.ok(), pieces.ok()) << "chunk " << chunk;
    if (whole.ok()) {
      EXPECT_EQ(*whole, *pieces) << "chunk " << chunk;
    } else {
      // (Protobuf map order in the payload may differ; compare the parts.)
      EXPECT_EQ(whole.status().code(), pieces.status().code()) << "chunk " << chunk;
      EXPECT_EQ(whole.status().message(), pieces.status().message()) << "chunk " << chunk;
      EXPECT_EQ(errors::Reason(whole.status()), errors::Reason(pieces.status()));
      EXPECT_EQ(errors::GetMetadata(whole.status()), errors::GetMetadata(pieces.status()));
    }
  }
}

TEST(ReaderTest, SimpleRecordsWithLineNumbers) {
  auto rows = ReadAll("name,phone\r\nSiti,0812\r\nBudi,0813\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"name", "phone"}}, Row{2, {"Siti", "0812"}},
                                 Row{3, {"Budi", "0813"}}));
}

TEST(ReaderTest, LfLoneCrAndNoFinalLineEnd) {
  auto rows = ReadAll("a,b\nc,d\re,f\r\ng,h");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a", "b"}}, Row{2, {"c", "d"}}, Row{3, {"e", "f"}},
                                 Row{4, {"g", "h"}}));
}

TEST(ReaderTest, QuotedFields) {
  auto rows = ReadAll(
      "name,address,note\r\n"
      "\"Santoso, Budi\",\"Jl. Merdeka 1\r\nJakarta\",\"say \"\"hi\"\"\"\r\n"
      "\"\",\"\"\"\",x\n"
      "\"a\nb\nc\",2,3\n"
      "last,\"\",\"\"");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows,
              ElementsAre(Row{1, {"name", "address", "note"}},
                          Row{2, {"Santoso, Budi", "Jl. Merdeka 1\r\nJakarta", "say \"hi\""}},
                          Row{4, {"", "\"", "x"}}, Row{5, {"a\nb\nc", "2", "3"}},
                          Row{8, {"last", "", ""}}));
}

TEST(ReaderTest, EmptyFieldsAndTrailingDelimiters) {
  auto rows = ReadAll(",,\na,,\n,b,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows,
              ElementsAre(Row{1, {"", "", ""}}, Row{2, {"a", "", ""}}, Row{3, {"", "b", ""}}));
}

TEST(ReaderTest, EmptyLinesAreSkippedButCounted) {
  auto rows = ReadAll("a\r\n\r\n\nb\n\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a"}}, Row{4, {"b"}}));

  ReaderOptions keep;
  keep.skip_empty_lines = false;
  rows = ReadAll("a\r\n\r\nb\n", keep);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a"}}, Row{2, {""}}, Row{3, {"b"}}));
}

TEST(ReaderTest, EmptyInput) {
  for (absl::string_view input : {"", "\xEF\xBB\xBF", "\r\n", "\n\n"}) {
    auto rows = ReadAll(input);
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_TRUE(rows->empty());
  }
}

TEST(ReaderTest, ByteOrderMarkIsStripped) {
  auto rows = ReadAll("\xEF\xBB\xBFnama,telepon\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"nama", "telepon"}}));
  // Only at the start.
  rows = ReadAll(
      "a\n\xEF\xBB\xBF"
      "b\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a"}}, Row{2,
                                                    {"\xEF\xBB\xBF"
                                                     "b"}}));
  // A BOM split across chunks.
  ExpectSameForEveryChunking("\xEF\xBB\xBFnama,telepon\n");
}

TEST(ReaderTest, ValuesStayTextByteForByte) {
  auto rows = ReadAll(
      "0812345678,12345678901234567890,007, padded ,1.50,1e5,+6281234\n"
      "สมชาย ใจดี,กาญจนา ศรีสุข,José\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1,
                                     {"0812345678", "12345678901234567890", "007", " padded ",
                                      "1.50", "1e5", "+6281234"}},
                                 Row{2, {"สมชาย ใจดี", "กาญจนา ศรีสุข", "José"}}));
}

TEST(ReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
  auto rows = ReadAll("5\" pipe,ab\"c\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"5\" pipe", "ab\"c"}}));
}

TEST(ReaderTest, ChunkingDoesNotMatter) {
  ExpectSameForEveryChunking(
      "\xEF\xBB\xBFname,address\r\n"
      "\"Santoso, Budi\",\"Jl. Merdeka\r\nJakarta\"\r\n"
      "สมชาย ใจดี,\"a \"\"quoted\"\" word\"\r"
      "\n\n"
      "x,\"\"\"\"\r\n"
      "last,no newline");
  ExpectSameForEveryChunking("a,\"b\nc\"\r\n\"unterminated\r\nline");
  ExpectSameForEveryChunking("a,\"b\"x\n");
}

TEST(ReaderTest, InvalidUtf8NamesTheLine) {
  auto rows = ReadAll(
      "name\nSiti\nBu\xE9"
      "di\n");  // Latin-1 é
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvInvalidUtf8);
  EXPECT_THAT(rows.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(rows.status().message(), HasSubstr("CSV UTF-8"));
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "3");
  EXPECT_EQ(errors::GetMetadata(rows.status())["column"], "1");

  // Inside a multi-line quoted field: the line of the bad byte.
  rows = ReadAll("a,b\nx,\"line two\nline three \xC3(\"\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "3");
  EXPECT_EQ(errors::GetMetadata(rows.status())["column"], "2");

  // Thai in TIS-620 (Windows-874): สม = 0xCA 0xC1.
  rows = ReadAll("name\n\xCA\xC1\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvInvalidUtf8);

  // Overlong, surrogate, truncated, NUL.
  const absl::string_view bad_values[] = {"\xC0\xAF", "\xED\xA0\x80", "\xE0\xB8",
                                          absl::string_view("a\0b", 3), "\xF4\x90\x80\x80"};
  for (absl::string_view bad : bad_values) {
    rows = ReadAll(absl::StrCat("ok\n", bad, "\n"));
    ASSERT_FALSE(rows.ok()) << absl::CHexEscape(bad);
    EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvInvalidUtf8);
    EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "2");
  }
  // Valid 2-, 3- and 4-byte sequences.
  EXPECT_TRUE(ReadAll("\xC3\xA9,\xE0\xB8\x81,\xF0\x9F\x98\x80\n").ok());
}

TEST(ReaderTest, Utf16IsRefusedWithAHint) {
  auto rows = ReadAll(std::string("\xFF\xFEn\0a\0", 6));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvUnsupportedEncoding);
  EXPECT_THAT(rows.status().message(), HasSubstr("UTF-16"));
}

TEST(ReaderTest, BadAndUnterminatedQuotes) {
  auto rows = ReadAll("a,b\n\"x\"y,z\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvBadQuote);
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "2");
  EXPECT_EQ(errors::GetMetadata(rows.status())["column"], "1");

  rows = ReadAll("a,b\nc,\"open\nmore\nlines\n");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvUnterminatedQuote);
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "2");
  EXPECT_EQ(errors::GetMetadata(rows.status())["column"], "2");
}

TEST(ReaderTest, FieldRecordAndFieldCountLimits) {
  ReaderOptions options;
  options.max_field_bytes = 5;
  options.max_record_bytes = 12;
  options.max_fields_per_record = 3;
  EXPECT_TRUE(ReadAll("12345,12345\n\"12345\"\n", options).ok());

  auto rows = ReadAll("ok\n123456\n", options);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvFieldTooLarge);
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "2");
  EXPECT_EQ(errors::GetMetadata(rows.status())["limit"], "5");
  // A runaway quote hits the field limit long before the end of the file.
  rows = ReadAll("ok\n\"never closed\n", options);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvFieldTooLarge);
  EXPECT_THAT(rows.status().message(), HasSubstr("quote"));

  rows = ReadAll("12345,12345,12\n", options);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvRecordTooLarge);

  rows = ReadAll("a,b,c\na,b,c,d\n", options);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvTooManyFields);
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "2");
}

// A field that breaks both limits: the error names the limit its first byte too many
// breaks, whatever the chunking (found by the CSV fuzzer).
TEST(ReaderTest, TheLimitBrokenFirstIsReportedForEveryChunking) {
  ReaderOptions options;
  options.max_field_bytes = 8;
  options.max_record_bytes = 32;
  options.max_fields_per_record = 4;
  options.max_records = 6;
  options.detect_delimiter = true;
  const absl::string_view input = "anphonee;mai0812;aphonee;mai9@c.id\n";
  ExpectSameForEveryChunking(input, options);
  auto rows = ReadAll(input, options);
  ASSERT_FALSE(rows.ok());
  // Byte 33 of the record is the 8th of the last field: the record's limit breaks first.
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvRecordTooLarge);
  ExpectSameForEveryChunking("12345,123456\n", [] {
    ReaderOptions o;
    o.max_field_bytes = 5;
    o.max_record_bytes = 11;
    return o;
  }());
}

TEST(ReaderTest, RecordAndInputLimitsAreResourceExhausted) {
  ReaderOptions options;
  options.max_records = 3;  // header + 2 rows
  EXPECT_TRUE(ReadAll("h\n1\n2\n", options).ok());
  auto rows = ReadAll("h\n1\n2\n3\n", options);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvTooManyRecords);
  EXPECT_EQ(errors::GetMetadata(rows.status())["line"], "4");

  options = {};
  options.max_input_bytes = 10;
  EXPECT_TRUE(ReadAll("0123456789", options).ok());
  rows = ReadAll("0123456789\n", options, 4);
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(errors::Reason(rows.status()), kReasonCsvInputTooLarge);
}

TEST(ReaderTest, ErrorsAreStickyAndFeedAfterFinishFails) {
  auto reader = Reader::Create({});
  ASSERT_TRUE(reader.ok());
  Record record;
  ASSERT_TRUE((*reader)->Feed("a\n\"x\"y\nb\n").ok());
  auto next = (*reader)->Next(&record);
  ASSERT_TRUE(next.ok() && *next);
  next = (*reader)->Next(&record);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ((*reader)->Next(&record).status(), next.status());
  EXPECT_EQ((*reader)->Feed("more").code(), absl::StatusCode::kInvalidArgument);

  reader = Reader::Create({});
  ASSERT_TRUE(reader.ok());
  (*reader)->Finish();
  EXPECT_EQ((*reader)->Feed("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ReaderTest, InvalidOptions) {
  ReaderOptions options;
  options.delimiter = '"';
  EXPECT_EQ(errors::Reason(Reader::Create(options).status()), kReasonCsvInvalidOptions);
  options = {};
  options.max_field_bytes = 0;
  EXPECT_EQ(errors::Reason(Reader::Create(options).status()), kReasonCsvInvalidOptions);
}

TEST(ReaderTest, OtherDelimiters) {
  ReaderOptions options;
  options.delimiter = ';';
  auto rows = ReadAll("nama;saldo\nSiti;\"1.234,50\"\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"nama", "saldo"}}, Row{2, {"Siti", "1.234,50"}}));
}

// Found by fuzz/csv_reader_fuzzer: a first line longer than a record may be chose its
// delimiter from however much of it had arrived, so the error depended on the chunking.
TEST(ReaderTest, DetectionOnAnOverlongFirstLineDoesNotDependOnChunking) {
  ReaderOptions options;
  options.detect_delimiter = true;
  options.max_field_bytes = 8;
  options.max_record_bytes = 32;
  // A TAB within the first 32 bytes, more commas after them.
  const std::string input = std::string("\0\0\0\0\0\0\t", 7) + std::string(30, 'x') + ",a,b\n";
  ExpectSameForEveryChunking(input, options);
  ExpectSameForEveryChunking(std::string(40, 'x') + ";a;b\nc;d\n", options);
}

TEST(ReaderTest, DetectsDelimiter) {
  ReaderOptions options;
  options.detect_delimiter = true;
  // Indonesian-locale Excel writes ';' because ',' is the decimal separator.
  auto rows = ReadAll("nama;telepon;saldo\nSiti;0812;1,5\n", options, 3);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows,
              ElementsAre(Row{1, {"nama", "telepon", "saldo"}}, Row{2, {"Siti", "0812", "1,5"}}));
  rows = ReadAll("a\tb\n1\t2\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a", "b"}}, Row{2, {"1", "2"}}));
  // Commas inside quotes do not count; a tie keeps the configured delimiter.
  rows = ReadAll("\"a,b,c\";d\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a,b,c", "d"}}));
  rows = ReadAll("a;b,c\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"a;b", "c"}}));
  // Excel's "sep=" line: skipped, but counted as line 1.
  rows = ReadAll("\xEF\xBB\xBFsep=;\r\nname;phone\r\nSiti;0812\r\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{2, {"name", "phone"}}, Row{3, {"Siti", "0812"}}));
  ExpectSameForEveryChunking("\xEF\xBB\xBFsep=;\r\nname;phone\r\nSiti;0812\r\n", options);
  ExpectSameForEveryChunking("nama;telepon;saldo\nSiti;0812;1,5\n", options);
  // A single column.
  rows = ReadAll("name\nSiti\n", options);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(Row{1, {"name"}}, Row{2, {"Siti"}}));
}

TEST(ReaderTest, RecordIsBlank) {
  Record record;
  EXPECT_TRUE(record.IsBlank());
  record.fields = {"", " ", "\t"};
  EXPECT_TRUE(record.IsBlank());
  record.fields = {"", "x"};
  EXPECT_FALSE(record.IsBlank());
}

TEST(ReaderTest, ManyRecordsReuseTheRecord) {
  std::string input = "id,name,phone\r\n";
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&input, i, ",\"Pelanggan ", i, "\",08", 100000 + i, "\r\n");
  }
  auto rows = ReadAll(input, {}, 4096);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 10001u);
  EXPECT_EQ((*rows)[10000], (Row{10001, {"9999", "Pelanggan 9999", "08109999"}}));
}

// A cut input (a cancelled import stream) is not finished: only records ended by a line end
// come out, and the reader says that an unterminated record was left behind.
TEST(ReaderTest, AnUnfinishedInputYieldsOnlyTerminatedRecords) {
  auto reader = Reader::Create({});
  ASSERT_TRUE(reader.ok());
  Record record;
  std::vector<std::vector<std::string>> rows;
  auto drain = [&] {
    while (true) {
      absl::StatusOr<bool> next = (*reader)->Next(&record);
      ASSERT_TRUE(next.ok()) << next.status();
      if (!*next) return;
      rows.push_back(record.fields);
    }
  };
  ASSERT_TRUE((*reader)->Feed("Nama,Telepon\r\nAni,0812-1111-2222\r").ok());
  drain();
  EXPECT_FALSE((*reader)->has_partial_record());  // a CR ends the line; its LF may follow
  ASSERT_TRUE((*reader)->Feed("\nBudi Santoso,0812-3456-78").ok());
  drain();
  EXPECT_THAT(rows,
              ElementsAre(ElementsAre("Nama", "Telepon"), ElementsAre("Ani", "0812-1111-2222")));
  EXPECT_TRUE((*reader)->has_partial_record());
  ASSERT_TRUE((*reader)->Feed("90\n").ok());  // the rest of the line arrives after all
  drain();
  EXPECT_FALSE((*reader)->has_partial_record());
  EXPECT_THAT(rows.back(), ElementsAre("Budi Santoso", "0812-3456-7890"));
  // An incomplete first line is partial too (the delimiter is not known yet).
  ReaderOptions detect;
  detect.detect_delimiter = true;
  auto first = Reader::Create(detect);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Feed("Nama;Tele").ok());
  absl::StatusOr<bool> next = (*first)->Next(&record);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(*next);
  EXPECT_TRUE((*first)->has_partial_record());
}

}  // namespace
}  // namespace kelola::csv
