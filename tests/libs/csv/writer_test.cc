#include "libs/csv/writer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/csv/neutralize.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"

namespace kelola::csv {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Le;

struct Captured {
  std::string bytes;
  std::vector<size_t> chunk_sizes;
  Sink sink() {
    return [this](absl::string_view chunk) {
      bytes.append(chunk.data(), chunk.size());
      chunk_sizes.push_back(chunk.size());
      return absl::OkStatus();
    };
  }
};

std::unique_ptr<Writer> MakeWriter(Captured& out, WriterOptions options = {}) {
  auto writer = Writer::Create(options, out.sink());
  EXPECT_TRUE(writer.ok()) << writer.status();
  return *std::move(writer);
}

TEST(WriterTest, BomQuotingAndCrlf) {
  Captured out;
  auto writer = MakeWriter(out);
  ASSERT_TRUE(writer->WriteRow({"Name", "Address", "Note"}).ok());
  ASSERT_TRUE(writer->WriteRow({"Santoso, Budi", "Jl. Merdeka 1\nJakarta", "say \"hi\""}).ok());
  ASSERT_TRUE(writer->WriteRow({"สมชาย ใจดี", "", "0812345678"}).ok());
  EXPECT_TRUE(out.bytes.empty());  // nothing before a full chunk
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes,
            "\xEF\xBB\xBFName,Address,Note\r\n"
            "\"Santoso, Budi\",\"Jl. Merdeka 1\nJakarta\",\"say \"\"hi\"\"\"\r\n"
            "สมชาย ใจดี,,0812345678\r\n");
  EXPECT_EQ(writer->rows_written(), 3);
  EXPECT_EQ(writer->bytes_written(), static_cast<int64_t>(out.bytes.size()));
}

TEST(WriterTest, NoBomAndOtherDelimiter) {
  Captured out;
  WriterOptions options;
  options.utf8_bom = false;
  options.delimiter = ';';
  auto writer = MakeWriter(out, options);
  ASSERT_TRUE(writer->WriteRow({"a;b", "1,5"}).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes, "\"a;b\";1,5\r\n");
}

TEST(WriterTest, FormulaInjectionIsNeutralized) {
  Captured out;
  WriterOptions options;
  options.utf8_bom = false;
  auto writer = MakeWriter(out, options);
  ASSERT_TRUE(writer
                  ->WriteRow({"=HYPERLINK(\"http://x\",\"click\")", "+6281234567890", "-5000",
                              "@SUM(A1)", "\tx", "\rx",
                              "\xEF\xBC\x9D"
                              "1+1",
                              "a=b", "'=x"})
                  .ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes,
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",'+6281234567890,'-5000,'@SUM(A1),"
            "'\tx,\"'\rx\",'\xEF\xBC\x9D"
            "1+1,a=b,'=x\r\n");
}

TEST(WriterTest, TrustedNumbersBypassNeutralization) {
  Captured out;
  WriterOptions options;
  options.utf8_bom = false;
  auto writer = MakeWriter(out, options);
  writer->AddNumber("-5000");
  writer->AddNumber("1234.50");
  writer->AddNumber("0");
  writer->AddInteger(-9223372036854775807 - 1);
  // Not plain decimals: treated as text.
  writer->AddNumber("-1+2");
  writer->AddNumber("=1");
  writer->AddNumber("1,5");
  writer->AddNumber("-");
  ASSERT_TRUE(writer->EndRow().ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes, "-5000,1234.50,0,-9223372036854775808,'-1+2,'=1,\"1,5\",'-\r\n");
}

TEST(WriterTest, NeutralizationCanBeTurnedOff) {
  Captured out;
  WriterOptions options;
  options.utf8_bom = false;
  options.neutralize_formulas = false;
  auto writer = MakeWriter(out, options);
  ASSERT_TRUE(writer->WriteRow({"=1+1", "-5"}).ok());
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes, "=1+1,-5\r\n");
}

TEST(WriterTest, FinishEndsAnOpenRowAndRefusesReuse) {
  Captured out;
  WriterOptions options;
  options.utf8_bom = false;
  auto writer = MakeWriter(out, options);
  writer->AddText("x");
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes, "x\r\n");
  EXPECT_EQ(writer->Finish().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(writer->EndRow().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(WriterTest, StreamsInBoundedChunks) {
  Captured out;
  WriterOptions options;
  options.chunk_bytes = 1000;
  auto writer = MakeWriter(out, options);
  std::string expected = "\xEF\xBB\xBF";
  for (int i = 0; i < 5000; ++i) {
    const std::string name = absl::StrCat("Pelanggan ", i);
    const std::string phone = absl::StrCat("08", 1000000 + i);
    ASSERT_TRUE(writer->WriteRow({name, phone}).ok());
    absl::StrAppend(&expected, name, ",", phone, "\r\n");
    // What has not reached the sink stays below one chunk.
    ASSERT_LT(expected.size() - out.bytes.size(), 1000u);
  }
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(out.bytes, expected);
  ASSERT_GT(out.chunk_sizes.size(), 100u);
  for (size_t i = 0; i + 1 < out.chunk_sizes.size(); ++i) EXPECT_EQ(out.chunk_sizes[i], 1000u);
  EXPECT_THAT(out.chunk_sizes, Each(Le(1000u)));
}

TEST(WriterTest, SinkErrorIsSticky) {
  int calls = 0;
  WriterOptions options;
  options.chunk_bytes = 10;
  auto writer = Writer::Create(options, [&](absl::string_view) {
    ++calls;
    return absl::CancelledError("client went away");
  });
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ((*writer)->WriteRow({"0123456789abc"}).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*writer)->WriteRow({"x"}).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*writer)->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST(WriterTest, InvalidOptions) {
  WriterOptions options;
  options.chunk_bytes = 0;
  EXPECT_EQ(
      errors::Reason(
          Writer::Create(options, [](absl::string_view) { return absl::OkStatus(); }).status()),
      kReasonCsvInvalidOptions);
  EXPECT_EQ(errors::Reason(Writer::Create({}, nullptr).status()), kReasonCsvInvalidOptions);
}

// What the writer writes, the reader reads back (the apostrophe removed by
// StripNeutralization, as an import of our own export does).
TEST(WriterTest, RoundTripThroughTheReader) {
  const std::vector<std::vector<std::string>> rows = {
      {"Name", "Phone", "Note"},
      {"Santoso, Budi", "+6281234567890", "line 1\r\nline 2"},
      {"สมชาย ใจดี", "0812345678", "\"quoted\" = yes"},
      {"=cmd|' /C calc'!A0", "-5000", ""},
      {"", "", "@home"},
  };
  Captured out;
  WriterOptions options;
  options.chunk_bytes = 7;
  auto writer = MakeWriter(out, options);
  for (const auto& row : rows) {
    std::vector<absl::string_view> cells(row.begin(), row.end());
    ASSERT_TRUE(writer->WriteRow(cells).ok());
  }
  ASSERT_TRUE(writer->Finish().ok());

  auto reader = Reader::Create({});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Feed(out.bytes).ok());
  (*reader)->Finish();
  Record record;
  std::vector<std::vector<std::string>> read;
  while (true) {
    auto next = (*reader)->Next(&record);
    ASSERT_TRUE(next.ok()) << next.status();
    if (!*next) break;
    std::vector<std::string> fields;
    for (const auto& f : record.fields) fields.emplace_back(StripNeutralization(f));
    read.push_back(fields);
  }
  EXPECT_EQ(read, rows);
}

}  // namespace
}  // namespace kelola::csv
