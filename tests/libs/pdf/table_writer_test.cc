#include "libs/pdf/table_writer.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

// fontconfig keeps its configuration and pattern caches for the life of the process (pango's
// default font map holds them); they are not per-document leaks.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace kelola::pdf {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;  // its quarantine keeps freed memory resident
#else
constexpr bool kAddressSanitizer = false;
#endif

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kNames = {"Siti Nurhaliza", "Budi Santoso", "สมชาย ใจดี",
                                         "กาญจนา ศรีสุข"};

class TableWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // scripts/bootstrap installs poppler-utils: its absence is a failure, not a skip.
    ASSERT_FALSE(kelola::testing::FindExecutable("pdftotext").empty())
        << "pdftotext (poppler-utils) is not installed";
    auto dir = kelola::testing::TempDir::Create("pdf_test");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs a poppler tool and returns what it wrote to `out_name` (or its stdout when empty).
  std::string Run(std::vector<std::string> argv, const std::string& out_name = "") {
    kelola::testing::ProcessOptions options;
    options.argv = std::move(argv);
    const std::string log = dir_->Join(absl::StrCat("run", ++runs_, ".log"));
    options.log_path = log;
    auto exit = kelola::testing::RunToCompletion(options, absl::Seconds(60));
    EXPECT_TRUE(exit.ok() && exit->success()) << options.argv[0] << ": " << ReadFile(log);
    return ReadFile(out_name.empty() ? log : dir_->Join(out_name));
  }

  // Writes `pdf` to a file and returns its text as pdftotext extracts it (pages end with \f).
  // -raw keeps the order of the content stream (row by row, cell by cell). Without it poppler
  // rebuilds lines from glyph positions and sometimes moves a Thai mark that has a positioning
  // offset (e.g. SARA U in "ศรีสุข") to the next line; the text layer itself is right.
  std::string ExtractText(const std::string& pdf,
                          const std::vector<std::string>& flags = {"-raw"}) {
    const std::string path = dir_->Join(absl::StrCat("doc", ++docs_, ".pdf"));
    std::ofstream(path, std::ios::binary) << pdf;
    std::vector<std::string> argv = {"pdftotext", "-enc", "UTF-8"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(path);
    const std::string out = absl::StrCat("doc", docs_, ".txt");
    argv.push_back(dir_->Join(out));
    return Run(argv, out);
  }

  std::string PdfInfo(const std::string& pdf) {
    const std::string path = dir_->Join(absl::StrCat("doc", ++docs_, ".pdf"));
    std::ofstream(path, std::ios::binary) << pdf;
    return Run({"pdfinfo", path});
  }

  static TableOptions CustomerOptions() {
    TableOptions options;
    options.title = "Daftar Pelanggan";
    options.subtitle_lines = {"Filter: kategori = VIP, status = aktif",
                              "Dibuat 24 Nov 2026 10:50 WIB (Asia/Jakarta)"};
    options.columns = {
        {"Nama", 3}, {"Telepon", 2}, {"Kategori", 1.5}, {"Saldo", 1.5, Align::kRight}};
    options.page_label = "Halaman";
    return options;
  }

  // Renders `rows` customer rows into a PDF.
  static std::string Render(int rows, TableOptions options = CustomerOptions(),
                            int* pages = nullptr) {
    std::string pdf;
    auto writer = TableWriter::Create(options, [&](absl::string_view chunk) {
      pdf.append(chunk.data(), chunk.size());
      return absl::OkStatus();
    });
    EXPECT_TRUE(writer.ok()) << writer.status();
    for (int i = 0; i < rows; ++i) {
      const std::string phone = absl::StrCat("+62 812-", 1000 + i % 9000, "-", 100 + i % 900);
      const std::string balance = absl::StrCat("Rp", i % 1000, ".", 100 + i % 900, ".000");
      EXPECT_TRUE(
          (*writer)
              ->AddRow({kNames[i % kNames.size()], phone, i % 3 == 0 ? "VIP" : "Retail", balance})
              .ok());
    }
    EXPECT_TRUE((*writer)->Finish().ok());
    if (pages != nullptr) *pages = (*writer)->page_count();
    return pdf;
  }

  std::unique_ptr<kelola::testing::TempDir> dir_;
  int runs_ = 0;
  int docs_ = 0;
};

// The resident set size of this process (VmRSS) in KiB.
int64_t ResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    int64_t kib = 0;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
  }
  return 0;
}

size_t Count(absl::string_view text, absl::string_view needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != absl::string_view::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

TEST_F(TableWriterTest, IndonesianAndThaiNamesComeBackFromPdftotext) {
  int pages = 0;
  const std::string pdf = Render(150, CustomerOptions(), &pages);
  ASSERT_TRUE(absl::StartsWith(pdf, "%PDF-"));
  ASSERT_GE(pages, 3);
  const std::string text = ExtractText(pdf);
  for (const std::string& name : kNames) {
    EXPECT_THAT(text, HasSubstr(name)) << text.substr(0, 2000);
  }
  // Every Thai row came back as the same code points (shaped text with a ToUnicode map, not
  // boxes or presentation forms).
  for (size_t k = 0; k < kNames.size(); ++k) {
    EXPECT_EQ(Count(text, kNames[k]), (150 - k + 3) / 4) << kNames[k];
  }
  EXPECT_THAT(text, HasSubstr("Daftar Pelanggan"));
  EXPECT_THAT(text, HasSubstr("Filter: kategori = VIP, status = aktif"));
  EXPECT_THAT(text, HasSubstr("Dibuat 24 Nov 2026 10:50 WIB (Asia/Jakarta)"));

  // Page by page: the column headers and the page number on every page.
  std::vector<std::string> page_texts = absl::StrSplit(text, '\f');
  if (!page_texts.empty() && page_texts.back().empty()) page_texts.pop_back();
  ASSERT_EQ(page_texts.size(), static_cast<size_t>(pages));
  for (int i = 0; i < pages; ++i) {
    SCOPED_TRACE(absl::StrCat("page ", i + 1));
    for (absl::string_view header : {"Nama", "Telepon", "Kategori", "Saldo"}) {
      EXPECT_THAT(page_texts[i], HasSubstr(header));
    }
    EXPECT_THAT(page_texts[i], HasSubstr(absl::StrCat("Halaman ", i + 1)));
  }
  // The title and the filters only on the first page.
  EXPECT_THAT(page_texts[1], Not(HasSubstr("Filter:")));
}

// Thai names with stacked marks (vowel + tone mark), marks below, SARA AM and descenders.
TEST_F(TableWriterTest, ThaiNamesWithStackedMarks) {
  const std::vector<std::string> names = {"สุดารัตน์ ทองคำ",  "ประยุทธ์ จันทร์โอชา", "วิไลวรรณ สุขสวัสดิ์",
                                          "ณัฐพล บุญมา",     "อรุณี ศักดิ์สิทธิ์",      "ธนพร ภูมิพัฒน์",
                                          "กิตติพงษ์ รุ่งเรือง", "พิมพ์ชนก ปู่ทอง",     "ศุภชัย น้ำใจ",
                                          "นฤมล ฤทธิ์ดี",     "ฐิติมา ญาติดี",       "บุญญฤทธิ์ กุศล"};
  TableOptions options;
  options.title = "รายชื่อลูกค้า";
  options.columns = {{"ชื่อ", 3}, {"ยอดค้างชำระ", 1, Align::kRight}};
  options.page_label = "หน้า";
  std::string pdf;
  auto writer = TableWriter::Create(options, [&](absl::string_view chunk) {
    pdf.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(writer.ok());
  for (const std::string& name : names) {
    ASSERT_TRUE((*writer)->AddRow({name, "฿1,234.50"}).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string text = ExtractText(pdf);
  for (const std::string& name : names) EXPECT_THAT(text, HasSubstr(name));
  EXPECT_THAT(text, HasSubstr("รายชื่อลูกค้า"));
  EXPECT_THAT(text, HasSubstr("ยอดค้างชำระ"));
  EXPECT_THAT(text, HasSubstr("฿1,234.50"));
  EXPECT_THAT(text, HasSubstr("หน้า 1"));
}

TEST_F(TableWriterTest, PageCountGrowsWithRows) {
  int pages_small = 0;
  int pages_medium = 0;
  int pages_large = 0;
  const std::string small = Render(5, CustomerOptions(), &pages_small);
  const std::string medium = Render(200, CustomerOptions(), &pages_medium);
  Render(600, CustomerOptions(), &pages_large);
  EXPECT_EQ(pages_small, 1);
  EXPECT_GT(pages_medium, pages_small);
  EXPECT_GT(pages_large, pages_medium);
  EXPECT_THAT(PdfInfo(small), ContainsRegex("Pages: +1\n"));
  EXPECT_THAT(PdfInfo(medium), ContainsRegex(absl::StrCat("Pages: +", pages_medium, "\n")));
  // A4 portrait.
  EXPECT_THAT(PdfInfo(small), HasSubstr("595.276 x 841.89 pts (A4)"));
}

TEST_F(TableWriterTest, LandscapeAndMetadata) {
  TableOptions options = CustomerOptions();
  options.orientation = Orientation::kLandscape;
  options.author = "Toko Maju";
  const std::string info = PdfInfo(Render(3, options));
  EXPECT_THAT(info, HasSubstr("841.89 x 595.276 pts (A4)"));
  EXPECT_THAT(info, ContainsRegex("Title: +Daftar Pelanggan"));
  EXPECT_THAT(info, ContainsRegex("Author: +Toko Maju"));
  EXPECT_THAT(info, ContainsRegex("Creator: +Kelola"));
}

TEST_F(TableWriterTest, LongCellsAreWrappedThenEllipsized) {
  TableOptions options = CustomerOptions();
  std::string pdf;
  auto writer = TableWriter::Create(options, [&](absl::string_view chunk) {
    pdf.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(writer.ok());
  std::string long_name;
  for (int i = 0; i < 200; ++i) absl::StrAppend(&long_name, "Nurhaliza", i, " ");
  // Control characters and invalid UTF-8 do not break the layout.
  ASSERT_TRUE((*writer)->AddRow({long_name, "line\nbreak\ttab", "bad \xFF byte", "1"}).ok());
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE((*writer)->AddRow({long_name, "x", "y", "2"}).ok());
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  // Each row is at most 2 lines high: 61 rows fit on a few pages.
  EXPECT_LE((*writer)->page_count(), 3);
  const std::string text = ExtractText(pdf);
  // The visible text ends with "…" after two lines; the text layer keeps the value (cut to
  // 2 KiB) as the ActualText of the ellipsis, so search and copy still find it.
  EXPECT_THAT(text, HasSubstr("Nurhaliza0 Nurhaliza1"));
  EXPECT_THAT(text, HasSubstr("Nurhaliza150"));
  EXPECT_THAT(text, Not(HasSubstr("Nurhaliza199")));
  EXPECT_THAT(text, HasSubstr("line break tab"));
  EXPECT_THAT(text, HasSubstr("bad \xEF\xBF\xBD byte"));
}

// Right-aligned cells share their right edge (pdftotext -bbox gives word boxes).
TEST_F(TableWriterTest, RightAlignedColumn) {
  TableOptions options;
  options.columns = {{"Nama", 3}, {"Saldo", 1, Align::kRight}};
  std::string pdf;
  auto writer = TableWriter::Create(options, [&](absl::string_view chunk) {
    pdf.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->AddRow({"Budi Santoso", "7"}).ok());
  ASSERT_TRUE((*writer)->AddRow({"Siti Nurhaliza", "1.234.567"}).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string html = ExtractText(pdf, {"-bbox"});
  auto x_max_of = [&](absl::string_view word) {
    const size_t pos = html.find(absl::StrCat(">", word, "</word>"));
    EXPECT_NE(pos, std::string::npos) << word;
    const size_t line_start = html.rfind("<word", pos);
    const size_t x = html.find("xMax=\"", line_start) + 6;
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(html.substr(x, html.find('"', x) - x), &value));
    return value;
  };
  const double right_short = x_max_of("7");
  const double right_long = x_max_of("1.234.567");
  EXPECT_NEAR(right_short, right_long, 1.0);
  // Close to the right margin (A4 width 595.276 - 36 margin - 3 padding).
  EXPECT_NEAR(right_long, 595.276 - 36 - 3, 2.0);
  EXPECT_LT(x_max_of("Budi"), 200);
}

TEST_F(TableWriterTest, EmptyTableShowsTheMessage) {
  TableOptions options = CustomerOptions();
  options.empty_message = "Tidak ada pelanggan";
  int pages = 0;
  const std::string text = ExtractText(Render(0, options, &pages));
  EXPECT_EQ(pages, 1);
  EXPECT_THAT(text, HasSubstr("Tidak ada pelanggan"));
  EXPECT_THAT(text, HasSubstr("Telepon"));
}

// 20,000 rows: pages reach the sink while rows are still being added, in bounded pieces, and
// memory does not grow with the document.
TEST_F(TableWriterTest, StreamsPagesWithBoundedMemory) {
  const int64_t rss_before = ResidentKib();
  int64_t rss_peak = rss_before;
  int64_t total = 0;
  int64_t at_half = -1;
  size_t largest_chunk = 0;
  TableOptions options = CustomerOptions();
  auto writer = TableWriter::Create(options, [&](absl::string_view chunk) {
    total += static_cast<int64_t>(chunk.size());
    largest_chunk = std::max(largest_chunk, chunk.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(writer.ok());
  constexpr int kRows = 20000;
  for (int i = 0; i < kRows; ++i) {
    const std::string phone = absl::StrCat("+66 81 ", 100 + i % 900, " ", 1000 + i % 9000);
    ASSERT_TRUE((*writer)->AddRow({kNames[i % 4], phone, "Member", absl::StrCat(i)}).ok());
    if (i == kRows / 2) at_half = total;
    if (i % 1000 == 0) rss_peak = std::max(rss_peak, ResidentKib());
  }
  const int64_t before_finish = total;
  ASSERT_TRUE((*writer)->Finish().ok());
  rss_peak = std::max(rss_peak, ResidentKib());
  EXPECT_GT(at_half, 0);
  EXPECT_GT(before_finish, total / 2) << "most of the document should leave before Finish()";
  EXPECT_LE(largest_chunk, options.chunk_bytes);
  EXPECT_EQ((*writer)->bytes_written(), total);
  EXPECT_GT((*writer)->page_count(), 300);
  const int64_t growth_kib = rss_peak - rss_before;
  if (!kAddressSanitizer) {
    EXPECT_LT(growth_kib, 64 * 1024) << "peak RSS grew by " << growth_kib << " KiB";
  }
  std::cout << "20000 rows: " << (*writer)->page_count() << " pages, " << total
            << " bytes, before Finish " << before_finish << ", peak RSS growth " << growth_kib
            << " KiB\n";
}

// Writers on separate threads at once, and one writer handed from thread to thread (as a gRPC
// callback reactor would): each has its own font map.
TEST_F(TableWriterTest, ConcurrentWritersAndThreadHandOff) {
  constexpr int kThreads = 4;
  std::vector<std::string> pdfs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&pdfs, t] { pdfs[t] = Render(300); });
  }
  for (auto& thread : threads) thread.join();

  std::string handed_off;
  auto writer = TableWriter::Create(CustomerOptions(), [&](absl::string_view chunk) {
    handed_off.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(writer.ok());
  for (int t = 0; t < kThreads; ++t) {
    std::thread([&writer, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE((*writer)->AddRow({kNames[(t + i) % 4], "0812", "VIP", "1"}).ok());
      }
    }).join();
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  pdfs.push_back(handed_off);

  for (const std::string& pdf : pdfs) {
    EXPECT_TRUE(absl::StartsWith(pdf, "%PDF-"));
    EXPECT_TRUE(absl::StrContains(pdf.substr(pdf.size() - 16), "%%EOF"));
    const std::string text = ExtractText(pdf);
    for (const std::string& name : kNames) EXPECT_THAT(text, HasSubstr(name));
  }
}

TEST_F(TableWriterTest, SinkErrorIsSticky) {
  int calls = 0;
  TableOptions options = CustomerOptions();
  options.chunk_bytes = 1024;
  auto writer = TableWriter::Create(options, [&](absl::string_view) {
    ++calls;
    return absl::CancelledError("client went away");
  });
  ASSERT_TRUE(writer.ok());
  absl::Status status;
  for (int i = 0; i < 500 && status.ok(); ++i) {
    status = (*writer)->AddRow({"Budi Santoso", "0812", "VIP", "1"});
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*writer)->AddRow({"a", "b", "c", "d"}).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ((*writer)->Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(TableWriterTest, AbandonedWriterWritesNothingMore) {
  int64_t bytes = 0;
  {
    auto writer = TableWriter::Create(CustomerOptions(), [&](absl::string_view chunk) {
      bytes += static_cast<int64_t>(chunk.size());
      return absl::OkStatus();
    });
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->AddRow({"a", "b", "c", "d"}).ok());
    bytes = 0;
  }
  EXPECT_EQ(bytes, 0);
}

TEST_F(TableWriterTest, BadRowsAndOptions) {
  auto writer =
      TableWriter::Create(CustomerOptions(), [](absl::string_view) { return absl::OkStatus(); });
  ASSERT_TRUE(writer.ok());
  absl::Status status = (*writer)->AddRow({"only", "three", "cells"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(status), kReasonPdfRowMismatch);
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->Finish().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->AddRow({"a", "b", "c", "d"}).code(), absl::StatusCode::kFailedPrecondition);

  auto sink = [](absl::string_view) { return absl::OkStatus(); };
  TableOptions options;
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, sink).status()), kReasonPdfInvalidOptions);
  options.columns = {{"a", 0}};
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, sink).status()), kReasonPdfInvalidOptions);
  options.columns = {{"a", 1}};
  options.font_size = 200;
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, sink).status()), kReasonPdfInvalidOptions);
  options.font_size = 8;
  options.max_lines_per_cell = 11;
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, sink).status()), kReasonPdfInvalidOptions);
  options.max_lines_per_cell = 2;
  options.subtitle_lines.assign(11, "filter");
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, sink).status()), kReasonPdfInvalidOptions);
  options.subtitle_lines.clear();
  EXPECT_EQ(errors::Reason(TableWriter::Create(options, nullptr).status()),
            kReasonPdfInvalidOptions);
  EXPECT_TRUE(TableWriter::Create(options, sink).ok());
}

}  // namespace
}  // namespace kelola::pdf
