// CustomerService.ExportCustomers (C15) through gRPC on SQLite and PostgreSQL.

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/csv/reader.h"
#include "libs/testing/process.h"
#include "tests/customer-svc/api/import_export_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CustomerExportTest : public ImportExportTest {
 protected:
  v1::Customer CreateWith(
      const std::string& name, const std::string& phone, const std::string& category = "",
      v1::MarketingConsentState consent = v1::MARKETING_CONSENT_STATE_UNSPECIFIED) {
    v1::CreateCustomerRequest request;
    request.mutable_customer()->set_display_name(name);
    if (!phone.empty()) request.mutable_customer()->mutable_phone()->set_raw(phone);
    request.mutable_customer()->set_category_id(category);
    if (consent != v1::MARKETING_CONSENT_STATE_UNSPECIFIED) {
      request.mutable_customer()->mutable_marketing_consent()->set_state(consent);
      request.mutable_customer()->mutable_marketing_consent()->set_source("in_store_form");
    }
    v1::Customer out;
    grpc::Status status = Create(request, &out);
    EXPECT_TRUE(status.ok()) << Decode(status);
    return out;
  }

  // Every record of a CSV file (header first).
  static std::vector<std::vector<std::string>> ParseCsv(const std::string& bytes) {
    std::vector<std::vector<std::string>> out;
    auto reader = csv::Reader::Create({});
    EXPECT_TRUE(reader.ok());
    EXPECT_TRUE((*reader)->Feed(bytes).ok());
    (*reader)->Finish();
    csv::Record record;
    while (true) {
      auto next = (*reader)->Next(&record);
      EXPECT_TRUE(next.ok()) << next.status();
      if (!next.ok() || !*next) break;
      out.push_back(record.fields);
    }
    return out;
  }

  static std::vector<std::string> Names(const ExportResult& r) {
    std::vector<std::string> out;
    auto rows = ParseCsv(r.bytes);
    for (size_t i = 1; i < rows.size(); ++i) out.push_back(rows[i][0]);
    return out;
  }

  std::string PdfText(const std::string& pdf) {
    const std::string path = dir_->Join("export.pdf");
    const std::string out = dir_->Join("export.txt");
    std::ofstream(path, std::ios::binary) << pdf;
    testing::ProcessOptions options;
    options.argv = {"pdftotext", "-enc", "UTF-8", "-raw", path, out};
    options.log_path = dir_->Join("pdftotext.log");
    auto exit = testing::RunToCompletion(options, absl::Seconds(60));
    EXPECT_TRUE(exit.ok() && exit->success());
    std::ifstream in(out, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_P(CustomerExportTest, CsvForExcelRoundTripsThroughImport) {
  CreateWith("Siti Nurhaliza", "0812-3456-7890", "vip");
  CreateWith("=cmd|' /C calc'!A0", "081200000001");
  CreateWith("Toko \"Maju\", Jaya", "081200000002");
  v1::CreateCustomerRequest multi;
  multi.mutable_customer()->set_display_name("Alamat Panjang");
  multi.mutable_customer()->set_email("alamat@example.com");
  multi.mutable_customer()->mutable_address()->set_text("Jl. Kenanga 3\nRT 01/RW 02");
  ASSERT_TRUE(Create(multi).ok());

  v1::ExportCustomersRequest request;
  request.set_format(v1::EXPORT_FORMAT_CSV);
  ExportResult r = Export(request);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  EXPECT_TRUE(absl::StartsWith(r.file_name, "customers-")) << r.file_name;
  EXPECT_EQ(r.row_count, 4);
  ASSERT_TRUE(absl::StartsWith(r.bytes,
                               "\xEF\xBB\xBFNama,Telepon,Email,Alamat,Perusahaan,"
                               "Kategori,Total Belanja,Saldo,Pembelian Terakhir\r\n"))
      << r.bytes.substr(0, 200);
  EXPECT_THAT(r.bytes, HasSubstr("'=cmd|' /C calc'!A0,"));
  EXPECT_THAT(r.bytes, HasSubstr("\"Toko \"\"Maju\"\", Jaya\""));
  EXPECT_THAT(r.bytes, HasSubstr("\"Jl. Kenanga 3\nRT 01/RW 02\""));
  EXPECT_THAT(r.bytes, HasSubstr("Rp0"));
  auto rows = ParseCsv(r.bytes);
  ASSERT_EQ(rows.size(), 5u);
  // Sorted by name (the list's default order).
  EXPECT_EQ(rows[1][0], "'=cmd|' /C calc'!A0");
  EXPECT_EQ(rows[2][0], "Alamat Panjang");
  EXPECT_EQ(rows[3][0], "Siti Nurhaliza");
  EXPECT_EQ(rows[3][1], "0812-3456-7890");
  EXPECT_EQ(rows[3][5], "VIP");

  // Our own export imports again without any change.
  const int64_t events = CountRows("SELECT COUNT(*) FROM events");
  ImportResult again = Import(r.bytes);
  ASSERT_TRUE(again.status.ok()) << Decode(again.status);
  EXPECT_EQ(again.response.unchanged_count(), 4) << again.response.DebugString();
  EXPECT_EQ(again.response.created_count(), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 4);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM events"), events);
}

TEST_P(CustomerExportTest, FiltersColumnsAndConsentingOnly) {
  CreateWith("Ayu", "081300000001", "vip", v1::MARKETING_CONSENT_STATE_GRANTED);
  CreateWith("Bayu", "081300000002", "vip", v1::MARKETING_CONSENT_STATE_WITHDRAWN);
  CreateWith("Cahya", "081300000003", "retail", v1::MARKETING_CONSENT_STATE_GRANTED);
  v1::Customer archived = CreateWith("Dimas", "081300000004", "vip");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(archived.customer_id());
  v1::ArchiveCustomerResponse archived_response;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived_response).ok());

  v1::ExportCustomersRequest request;
  request.set_format(v1::EXPORT_FORMAT_CSV);
  request.set_language_code("en");
  request.add_columns(v1::CUSTOMER_COLUMN_DISPLAY_NAME);
  request.add_columns(v1::CUSTOMER_COLUMN_PHONE_E164);
  request.add_columns(v1::CUSTOMER_COLUMN_MARKETING_CONSENT);
  request.add_columns(v1::CUSTOMER_COLUMN_TOTAL_SPENT);
  request.set_plain_amounts(true);
  ExportResult all = Export(request);
  ASSERT_TRUE(all.status.ok()) << Decode(all.status);
  EXPECT_THAT(Names(all), ::testing::ElementsAre("Ayu", "Bayu", "Cahya"));
  auto rows = ParseCsv(all.bytes);
  EXPECT_THAT(rows[0],
              ::testing::ElementsAre("Name", "Phone (E.164)", "Marketing Consent", "Total Spent"));
  EXPECT_THAT(rows[1], ::testing::ElementsAre("Ayu", "'+6281300000001", "Yes", "0.00"));

  request.set_consenting_only(true);
  EXPECT_THAT(Names(Export(request)), ::testing::ElementsAre("Ayu", "Cahya"));
  request.set_filter("category_id = \"vip\"");
  EXPECT_THAT(Names(Export(request)), ::testing::ElementsAre("Ayu"));
  request.set_consenting_only(false);
  request.set_show_archived(true);
  request.set_order_by("display_name desc");
  EXPECT_THAT(Names(Export(request)), ::testing::ElementsAre("Dimas", "Bayu", "Ayu"));

  request.set_filter("nonsense = 1");
  EXPECT_EQ(Export(request).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.set_filter("");
  request.set_order_by("shoe_size");
  EXPECT_EQ(Export(request).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.set_order_by("");
  request.add_columns(v1::CUSTOMER_COLUMN_DISPLAY_NAME);  // repeated
  EXPECT_EQ(Export(request).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ExportCustomersRequest no_format;
  EXPECT_EQ(Export(no_format).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(CustomerExportTest, PdfHasThaiAndIndonesianNames) {
  ASSERT_FALSE(testing::FindExecutable("pdftotext").empty()) << "poppler-utils is not installed";
  CreateWith("Siti Nurhaliza", "081234567890");
  CreateWith("สมชาย ใจดี", "+66812345678");
  CreateWith("Budi Santoso", "081234567891");
  v1::ExportCustomersRequest request;
  request.set_format(v1::EXPORT_FORMAT_PDF);
  ExportResult r = Export(request);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.content_type, "application/pdf");
  EXPECT_EQ(r.row_count, 3);
  ASSERT_TRUE(absl::StartsWith(r.bytes, "%PDF"));
  const std::string text = PdfText(r.bytes);
  EXPECT_THAT(text, HasSubstr("Daftar Pelanggan"));
  EXPECT_THAT(text, HasSubstr("Siti Nurhaliza"));
  EXPECT_THAT(text, HasSubstr("Budi Santoso"));
  EXPECT_THAT(text, HasSubstr("สมชาย"));
  EXPECT_THAT(text, HasSubstr("Filter: semua pelanggan"));
  EXPECT_THAT(text, HasSubstr("Dibuat"));
  EXPECT_THAT(text, HasSubstr("Halaman 1"));
}

TEST_P(CustomerExportTest, StreamsOverAThousandRowsInSeveralChunks) {
  std::string csv = "Nama,Telepon,Alamat\n";
  for (int i = 0; i < 1200; ++i) {
    absl::StrAppend(&csv, "Pelanggan ", absl::Dec(i, absl::kZeroPad4), ",0817",
                    absl::Dec(i, absl::kZeroPad7), ",Jalan Panjang Sekali Nomor ", i,
                    " Kelurahan Contoh Kecamatan Contoh Kabupaten Contoh Provinsi Contoh\n");
  }
  ImportResult imported = Import(csv);
  ASSERT_TRUE(imported.status.ok()) << Decode(imported.status);
  ASSERT_EQ(imported.response.created_count(), 1200);
  v1::ExportCustomersRequest request;
  request.set_format(v1::EXPORT_FORMAT_CSV);
  ExportResult r = Export(request);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.row_count, 1200);
  EXPECT_GE(r.messages, 3);
  auto names = Names(r);
  ASSERT_EQ(names.size(), 1200u);
  EXPECT_EQ(names.front(), "Pelanggan 0000");
  EXPECT_EQ(names.back(), "Pelanggan 1199");
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerExportTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
