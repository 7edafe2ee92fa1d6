// CustomerService.ImportCustomers (C14) through gRPC on SQLite and PostgreSQL.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/customer-svc/api/import_export_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

class CustomerImportTest : public ImportExportTest {
 protected:
  int64_t Customers() { return CountRows("SELECT COUNT(*) FROM customers"); }
  int64_t AllEvents() { return CountRows("SELECT COUNT(*) FROM events"); }

  // Installs the driver's version of a trigger that stands in for a fault.
  void InstallTrigger(absl::string_view postgres, absl::string_view sqlite) {
    const bool pg = absl::StartsWith(GetParam(), "postgres");
    absl::Status installed = db_->InTransaction(
        [&](db::Transaction& tx) { return tx.ExecuteScript(pg ? postgres : sqlite); });
    ASSERT_TRUE(installed.ok()) << installed;
  }
};

const v1::Customer* ByName(const std::vector<v1::Customer>& all, const std::string& name) {
  for (const auto& c : all) {
    if (c.display_name() == name) return &c;
  }
  return nullptr;
}

TEST_P(CustomerImportTest, IndonesianHeadersBomQuotedFieldsAndLeadingZeros) {
  const std::string csv =
      "\xEF\xBB\xBFNama,No HP,Email,Alamat,Kategori,Tanggal Lahir,Catatan\r\n"
      "Siti Nurhaliza,081234567890,siti@example.co.id,\"Jl. Merdeka 1, RT 02\nBandung\","
      "VIP,17/08/1990,\"suka \"\"kopi\"\"\"\r\n"
      "Budi Santoso,0857-1234-5678,,,,,\r\n";
  // Tiny chunks split the BOM, quotes and multi-byte characters.
  ImportResult r = Import(csv, {}, 7);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.row_count(), 2);
  EXPECT_EQ(r.response.created_count(), 2);
  EXPECT_EQ(r.response.failed_count(), 0) << r.response.DebugString();
  EXPECT_EQ(r.response.applied_column_mappings(0).field(), v1::CUSTOMER_COLUMN_DISPLAY_NAME);
  EXPECT_EQ(r.response.applied_column_mappings(1).field(), v1::CUSTOMER_COLUMN_PHONE);

  auto all = AllCustomers();
  const v1::Customer* siti = ByName(all, "Siti Nurhaliza");
  ASSERT_NE(siti, nullptr);
  EXPECT_EQ(siti->phone().raw(), "081234567890");
  EXPECT_EQ(siti->phone().e164(), "+6281234567890");
  EXPECT_EQ(siti->address().text(), "Jl. Merdeka 1, RT 02\nBandung");
  EXPECT_EQ(siti->category_id(), "vip");
  EXPECT_EQ(siti->birthday().year(), 1990);
  EXPECT_EQ(siti->birthday().month(), 8);
  EXPECT_EQ(siti->notes(), "suka \"kopi\"");
  const v1::Customer* budi = ByName(all, "Budi Santoso");
  ASSERT_NE(budi, nullptr);
  EXPECT_EQ(budi->phone().raw(), "0857-1234-5678");
  EXPECT_EQ(CountEvents("CustomerCreated"), 2);
}

TEST_P(CustomerImportTest, ThaiHeadersWithoutBomAndBuddhistEraYears) {
  v1::TenantSettings settings;
  settings.set_default_phone_region("TH");
  settings.set_time_zone("Asia/Bangkok");
  SetSettings(settings, {"default_phone_region", "time_zone"});
  const std::string csv =
      "ชื่อ;เบอร์โทร;อีเมล;ที่อยู่;บริษัท;หมายเหตุ;วันเกิด\n"
      "สมชาย ใจดี;0812345678;somchai@example.co.th;12 ถนนสุขุมวิท;ร้านสมชาย;ลูกค้าประจำ;"
      "15/04/2533\n";
  ImportResult r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 1) << r.response.DebugString();
  auto all = AllCustomers();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].display_name(), "สมชาย ใจดี");
  EXPECT_EQ(all[0].phone().raw(), "0812345678");
  EXPECT_EQ(all[0].phone().e164(), "+66812345678");
  EXPECT_EQ(all[0].company_name(), "ร้านสมชาย");
  EXPECT_EQ(all[0].birthday().year(), 1990);
}

TEST_P(CustomerImportTest, BadRowsAreReportedWithLineAndColumnAndGoodRowsApplied) {
  const std::string csv =
      "Name,Phone,Email,Category,Birthday,Notes\n"                      // line 1
      "Ani,081299990001,ani@example.com,,,\"baris satu\nbaris dua\"\n"  // lines 2-3
      ",0813111111,,,,\n"                                               // line 4: no name
      "Dewi,0813222222,not-an-email,,,\n"                               // line 5
      "Eko,12,,,,\n"                                                    // line 6
      "Fajar,0813333333,,Platinum,,\n"                                  // line 7
      "Gita,0813444444,,,31/02/1990,\n"                                 // line 8
      "Hadi,0813555555,hadi@example.com,Retail,1985-03-04,\n";          // line 9: fine
  const int64_t events_before = AllEvents();
  ImportResult r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.row_count(), 8 - 1);
  EXPECT_EQ(r.response.created_count(), 2);
  EXPECT_EQ(r.response.failed_count(), 5) << r.response.DebugString();
  std::vector<std::tuple<int64_t, std::string, std::string>> got;
  for (const auto& e : r.response.row_errors()) {
    EXPECT_EQ(e.outcome(), v1::IMPORT_ROW_OUTCOME_FAILED);
    got.emplace_back(e.line(), e.column(), e.reason());
  }
  EXPECT_THAT(got, ElementsAre(std::make_tuple(4, "Name", "MISSING_NAME"),
                               std::make_tuple(5, "Email", "INVALID_EMAIL"),
                               std::make_tuple(6, "Phone", "INVALID_PHONE"),
                               std::make_tuple(7, "Category", "UNKNOWN_CATEGORY"),
                               std::make_tuple(8, "Birthday", "INVALID_BIRTHDAY")));
  EXPECT_EQ(r.response.row_errors(1).field(), v1::CUSTOMER_COLUMN_EMAIL);
  // Only the good row left anything behind: one customer, its phone, its event.
  EXPECT_EQ(Customers(), 2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones"), 2);
  EXPECT_EQ(AllEvents() - events_before, 2);
  const auto all = AllCustomers();
  ASSERT_NE(ByName(all, "Ani"), nullptr);
  EXPECT_EQ(ByName(all, "Ani")->notes(), "baris satu\nbaris dua");
  ASSERT_NE(ByName(all, "Hadi"), nullptr);
  EXPECT_EQ(ByName(all, "Hadi")->category_id(), "retail");
}

TEST_P(CustomerImportTest, DryRunReportsButWritesNothing) {
  MustCreate("Rina", "081299990000");
  const int64_t events_before = AllEvents();
  const std::string csv =
      "Nama,Telepon\n"
      "Rina Wati,081299990000\n"  // matches Rina, differs: skipped
      "Rina,081299990000\n"       // the same data: unchanged
      "Sari,081288880000\n"       // new
      "Sari,081288880000\n"       // the same as the row above: unchanged
      ",081277770000\n";          // fails
  v1::ImportCustomersHeader header;
  header.set_dry_run(true);
  ImportResult r = Import(csv, header);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_TRUE(r.response.dry_run());
  EXPECT_EQ(r.response.created_count(), 1);
  EXPECT_EQ(r.response.skipped_count(), 1);
  EXPECT_EQ(r.response.unchanged_count(), 2);
  EXPECT_EQ(r.response.failed_count(), 1);
  EXPECT_EQ(Customers(), 1);
  EXPECT_EQ(AllEvents(), events_before);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'ImportCustomers.row'"),
            0);
}

TEST_P(CustomerImportTest, ARowNamingAnErasedCustomerFailsAndChangesNothing) {
  const v1::Customer erased = MustCreate("Dewi", "081322223333");
  v1::EraseCustomerRequest erase;
  erase.set_customer_id(erased.customer_id());
  erase.set_reason("customer request");
  v1::EraseCustomerResponse erase_response;
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erase_response).ok());
  const int64_t events_before = AllEvents();
  ImportResult r = Import(absl::StrCat("ID Pelanggan,Nama,Perusahaan\n", erased.customer_id(),
                                       ",Dewi Lestari,Toko Dewi\n"));
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.failed_count(), 1);
  ASSERT_EQ(r.response.row_errors_size(), 1);
  EXPECT_EQ(r.response.row_errors(0).reason(), "CUSTOMER_ERASED");
  EXPECT_EQ(r.response.row_errors(0).existing_customer_id(), erased.customer_id());
  EXPECT_EQ(AllEvents(), events_before);
  EXPECT_EQ(Customers(), 1);
}

TEST_P(CustomerImportTest, DuplicatesAreSkippedOrUpdatedByChoice) {
  v1::Customer existing = MustCreate("Wayan", "081311112222", "wayan@example.com");
  const std::string csv =
      "Nama,Telepon,Email,Perusahaan\n"
      "Wayan Sudarma,081311112222,,Toko Bali\n";
  ImportResult skip = Import(csv);
  ASSERT_TRUE(skip.status.ok()) << Decode(skip.status);
  EXPECT_EQ(skip.response.skipped_count(), 1);
  ASSERT_EQ(skip.response.row_errors_size(), 1);
  EXPECT_EQ(skip.response.row_errors(0).outcome(), v1::IMPORT_ROW_OUTCOME_SKIPPED);
  EXPECT_EQ(skip.response.row_errors(0).reason(), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(skip.response.row_errors(0).existing_customer_id(), existing.customer_id());
  EXPECT_EQ(skip.response.row_errors(0).line(), 2);
  EXPECT_EQ(AllCustomers()[0].company_name(), "");

  v1::ImportCustomersHeader header;
  header.set_on_duplicate(v1::IMPORT_DUPLICATE_POLICY_UPDATE);
  header.set_request_id("import-1");
  ImportResult update = Import(csv, header);
  ASSERT_TRUE(update.status.ok()) << Decode(update.status);
  EXPECT_EQ(update.response.updated_count(), 1);
  auto all = AllCustomers();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].display_name(), "Wayan Sudarma");
  EXPECT_EQ(all[0].company_name(), "Toko Bali");
  EXPECT_EQ(all[0].email(), "wayan@example.com");  // empty cell: kept
  EXPECT_EQ(CountEvents("CustomerUpdated"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM events WHERE request_id = 'import-1'"), 1);
}

TEST_P(CustomerImportTest, ReimportingTheSameFileChangesNothing) {
  const std::string csv =
      "Nama,No HP,Email,Kota\n"
      "Agus,081377778888,,Surabaya\n"
      "Bu Tini (tanpa kontak),,,Malang\n"
      "Citra,,citra@example.com,\n";
  ImportResult first = Import(csv);
  ASSERT_TRUE(first.status.ok()) << Decode(first.status);
  EXPECT_EQ(first.response.created_count(), 3);
  const int64_t events = AllEvents();
  for (auto policy : {v1::IMPORT_DUPLICATE_POLICY_SKIP, v1::IMPORT_DUPLICATE_POLICY_UPDATE}) {
    v1::ImportCustomersHeader header;
    header.set_on_duplicate(policy);
    ImportResult again = Import(csv, header);
    ASSERT_TRUE(again.status.ok()) << Decode(again.status);
    EXPECT_EQ(again.response.unchanged_count(), 3) << again.response.DebugString();
    EXPECT_EQ(again.response.created_count(), 0);
    EXPECT_EQ(again.response.row_errors_size(), 0);
  }
  EXPECT_EQ(Customers(), 3);
  EXPECT_EQ(AllEvents(), events);
}

// A batch reads its rows' fingerprints and held phones and e-mails once, before its first
// row; each row still sees what the rows before it in the same batch wrote.
TEST_P(CustomerImportTest, RowsOfOneBatchSeeTheRowsBeforeThem) {
  const std::string csv =
      "Nama,Telepon,Email\n"
      "Rudi,081355550001,rudi@example.com\n"  // created
      "Rudi,081355550001,rudi@example.com\n"  // the same row again: its fingerprint, unchanged
      "Rudi Hartono,081355550001,\n"          // row 2's phone: Rudi, renamed
      "Sari,,sari@example.com\n"              // created
      "Sari Dewi,081355550009,SARI@example.com\n";  // row 5's e-mail: Sari, renamed, a phone
  v1::ImportCustomersHeader header;
  header.set_on_duplicate(v1::IMPORT_DUPLICATE_POLICY_UPDATE);
  ImportResult r = Import(csv, header);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 2) << r.response.DebugString();
  EXPECT_EQ(r.response.unchanged_count(), 1);
  EXPECT_EQ(r.response.updated_count(), 2);
  EXPECT_EQ(r.response.failed_count(), 0);
  auto all = AllCustomers();
  ASSERT_EQ(all.size(), 2u);
  const v1::Customer* rudi = ByName(all, "Rudi Hartono");
  const v1::Customer* sari = ByName(all, "Sari Dewi");
  ASSERT_NE(rudi, nullptr);
  ASSERT_NE(sari, nullptr);
  EXPECT_EQ(rudi->email(), "rudi@example.com");
  EXPECT_EQ(sari->phone().e164(), "+6281355550009");
}

TEST_P(CustomerImportTest, MatchedRowOnlyAddsPhonesAndFailsAloneOnAnotherCustomersPhone) {
  MustCreate("Joko", "081400000001", "joko@example.com");
  MustCreate("Lina", "081400000002");
  const std::string csv =
      "Name,Email,Phone 2\n"
      "Joko,joko@example.com,081400000002\n"   // Lina's phone: must fail, Joko unchanged
      "Joko,joko@example.com,081400000003\n";  // a new phone: added
  v1::ImportCustomersHeader header;
  header.set_on_duplicate(v1::IMPORT_DUPLICATE_POLICY_UPDATE);
  ImportResult r = Import(csv, header);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.failed_count(), 1) << r.response.DebugString();
  EXPECT_EQ(r.response.updated_count(), 1);
  ASSERT_GE(r.response.row_errors_size(), 1);
  EXPECT_EQ(r.response.row_errors(0).line(), 2);
  EXPECT_EQ(r.response.row_errors(0).reason(), "CUSTOMER_DUPLICATE");
  auto all = AllCustomers();
  const v1::Customer* joko = ByName(all, "Joko");
  ASSERT_NE(joko, nullptr);
  EXPECT_EQ(joko->phone().e164(), "+6281400000001");
  ASSERT_EQ(joko->additional_phones_size(), 1);
  EXPECT_EQ(joko->additional_phones(0).e164(), "+6281400000003");
}

TEST_P(CustomerImportTest, HeaderProblemsFailTheCall) {
  ImportResult no_name = Import("Telepon,Email\n0812,a@b.co\n");
  EXPECT_EQ(no_name.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(no_name.status), ::testing::Contains("header.column_mappings"));

  v1::ImportCustomersHeader header;
  auto* m = header.add_column_mappings();
  m->set_column("Pelanggan");
  m->set_field(v1::CUSTOMER_COLUMN_DISPLAY_NAME);
  ImportResult mapped = Import("Pelanggan,Kontak\nPutu,081299998888\n", header);
  ASSERT_TRUE(mapped.status.ok()) << Decode(mapped.status);
  EXPECT_EQ(mapped.response.created_count(), 1);

  v1::ImportCustomersHeader bad;
  auto* e = bad.add_column_mappings();
  e->set_column("Saldo");
  e->set_field(v1::CUSTOMER_COLUMN_BALANCE);
  ImportResult export_only = Import("Nama,Saldo\nX,1\n", bad);
  EXPECT_EQ(export_only.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  ImportResult not_utf8 = Import("Nama\n\xff\xfe\n");
  EXPECT_EQ(not_utf8.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(not_utf8.status)), "IMPORT_FILE_INVALID");

  // No header message at all.
  v1::ImportCustomersResponse response;
  auto ctx = Ctx();
  auto stream = customers_->ImportCustomers(ctx.get(), &response);
  v1::ImportCustomersRequest chunk;
  chunk.set_chunk("Nama\nX\n");
  stream->Write(chunk);
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(status)), "IMPORT_HEADER_MISSING");
}

TEST_P(CustomerImportTest, LimitsOnRowsAndBytesAreNamed) {
  // Rows without a name fail cheaply: the limits are what is tested here.
  std::string many = "Nama,Catatan\n";
  for (int i = 0; i < 5001; ++i) absl::StrAppend(&many, ",", i, "\n");
  ImportResult rows = Import(many);
  EXPECT_EQ(rows.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  absl::Status decoded = Decode(rows.status);
  EXPECT_EQ(errors::Reason(decoded), "IMPORT_TOO_LARGE");
  EXPECT_EQ(errors::GetMetadata(decoded)["limit"], "max_rows");
  EXPECT_EQ(errors::GetMetadata(decoded)["max_rows"], "5000");

  std::string big = "Nama,Catatan\n";
  const std::string notes(3000, 'x');
  for (int i = 0; i < 400; ++i) absl::StrAppend(&big, ",", notes, "\n");
  ImportResult bytes = Import(big, {}, 1 << 20);
  EXPECT_EQ(bytes.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(errors::GetMetadata(Decode(bytes.status))["limit"], "max_bytes");
}

TEST_P(CustomerImportTest, CustomerLimitFailsTheRowsBeyondIt) {
  v1::TenantSettings settings;
  settings.set_customer_limit(3);
  SetSettings(settings, {"customer_limit"});
  MustCreate("Pertama", "081500000001");
  // C's row comes twice: its first attempt was rolled back, so the second finds nothing of
  // it (no recorded fingerprint, no held phone) and fails the same way.
  const std::string csv =
      "Nama,Telepon\nA,081500000002\nB,081500000003\nC,081500000004\nD,081500000005\n"
      "C,081500000004\n";
  ImportResult r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 2);
  EXPECT_EQ(r.response.failed_count(), 3);
  for (const auto& e : r.response.row_errors()) EXPECT_EQ(e.reason(), "CUSTOMER_LIMIT_REACHED");
  EXPECT_EQ(Customers(), 3);
}

TEST_P(CustomerImportTest, RowsAcrossManyBatchesAndChunks) {
  std::string csv = "Nama,Telepon\n";
  for (int i = 0; i < 230; ++i) {
    absl::StrAppend(&csv, "Pelanggan ", i, ",0816", absl::Dec(i, absl::kZeroPad7), "\n");
  }
  absl::StrAppend(&csv, ",0816\n");  // a bad last row
  ImportResult r = Import(csv, {}, 333);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 230);
  EXPECT_EQ(r.response.failed_count(), 1);
  EXPECT_EQ(r.response.row_errors(0).line(), 232);
  EXPECT_EQ(Customers(), 230);
}

// PostgreSQL caches plans per connection: an import that grows the directory from empty
// refreshes the planner's statistics instead of leaving plans made for empty tables.
TEST_P(CustomerImportTest, ImportRefreshesPlannerStatisticsOnPostgres) {
  if (!absl::StartsWith(GetParam(), "postgres")) GTEST_SKIP() << "SQLite keeps no statistics";
  std::string csv = "Nama,Telepon\n";
  for (int i = 0; i < 1200; ++i) {
    absl::StrAppend(&csv, "Pelanggan ", i, ",0817", absl::Dec(i, absl::kZeroPad7), "\n");
  }
  ImportResult r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 1200);
  // ANALYZE's effect on the catalog is transactional: the import's own count decides, not
  // PostgreSQL's change counters, which lag behind by up to a second. After the import's
  // last ANALYZE at most 500 more rows than it counted are left uncounted (the table
  // doubled plus 500): it counted at least (1200 - 500) / 2 = 350.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pg_class WHERE relname = 'customers' AND "
                      "relkind = 'r' AND reltuples >= 350"),
            1);
  // Only the directory's tables are analyzed, and never the stored messages' column.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'customers' AND "
                      "attname = 'data'"),
            0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pg_stats WHERE tablename = 'customers' AND "
                      "attname = 'name_folded'"),
            1);
  // The statistics collector reports it too (bounded wait: it is shared memory, not a
  // transaction).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int64_t analyzed = 0;
  while ((analyzed = CountRows("SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname = "
                               "'customers' AND last_analyze IS NOT NULL")) == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(analyzed, 1);
}

// A stream cut mid-row (the client cancels, its process dies, the deadline passes) applies
// the rows that ended with a line end and never its last, truncated record: the
// "0812-3456-78" of "Budi Santoso,0812-3456-7890" is not Budi's phone.
TEST_P(CustomerImportTest, ACutStreamDoesNotImportItsTruncatedLastRecord) {
  v1::ImportCustomersResponse response;
  auto ctx = Ctx();
  auto stream = customers_->ImportCustomers(ctx.get(), &response);
  v1::ImportCustomersRequest message;
  message.mutable_header()->set_file_name("pelanggan.csv");
  ASSERT_TRUE(stream->Write(message));
  // One whole batch (the fixture's batch_rows is 50), then a complete row and half a row.
  std::string chunk = "Nama,Telepon\n";
  for (int i = 0; i < 50; ++i) absl::StrAppend(&chunk, "Pelanggan ", i, ",\n");
  absl::StrAppend(&chunk, "Ani,0812-1111-2222\nBudi Santoso,0812-3456-78");
  message.set_chunk(chunk);
  ASSERT_TRUE(stream->Write(message));
  // The batch is committed once the server has read the chunk (and the half row after it).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Customers() < 50 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(Customers(), 50);
  ctx->TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server's shutdown waits for the import handler to return.
  io_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  io_server_->Wait();
  io_server_.reset();

  auto all = AllCustomers();
  EXPECT_EQ(all.size(), 51u);
  ASSERT_NE(ByName(all, "Ani"), nullptr);  // complete: applied
  EXPECT_EQ(ByName(all, "Ani")->phone().e164(), "+6281211112222");
  EXPECT_EQ(ByName(all, "Budi Santoso"), nullptr);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE e164 = '+62812345678'"), 0);
}

// A message that protobuf cannot parse (a string field that is not UTF-8) ends the client's
// stream as gRPC sees it; it is not the end of the file. The call fails naming the field, the
// complete rows before it are applied as in a cut stream, and the unterminated record before
// it and everything after it are not.
TEST_P(CustomerImportTest, AnUnparsableMessageMidStreamIsNotTheEndOfTheFile) {
  v1::ImportCustomersResponse response;
  auto ctx = Ctx();
  auto stream = customers_->ImportCustomers(ctx.get(), &response);
  v1::ImportCustomersRequest message;
  message.mutable_header()->set_file_name("pelanggan.csv");
  ASSERT_TRUE(stream->Write(message));
  message.set_chunk("Nama,Telepon\nAni,0812-1111-2222\nBudi Santoso,0812-3456-78");
  ASSERT_TRUE(stream->Write(message));
  message.mutable_header()->set_file_name("pelanggan\xFF.csv");
  stream->Write(message);
  message.set_chunk("90\nCitra,0813-1111-2222\n");
  stream->Write(message);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const absl::Status decoded = Decode(status);
  EXPECT_EQ(errors::Reason(decoded), "INVALID_UTF8");
  EXPECT_THAT(ViolationFields(status), ElementsAre("header.file_name"));

  auto all = AllCustomers();
  EXPECT_EQ(all.size(), 1u);
  ASSERT_NE(ByName(all, "Ani"), nullptr);
  EXPECT_EQ(ByName(all, "Budi Santoso"), nullptr);
  EXPECT_EQ(ByName(all, "Citra"), nullptr);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE e164 = '+62812345678'"), 0);
}

// A first message whose header does not parse is named for what it is, not as a missing header.
TEST_P(CustomerImportTest, AnUnparsableHeaderIsInvalidUtf8) {
  v1::ImportCustomersResponse response;
  auto ctx = Ctx();
  auto stream = customers_->ImportCustomers(ctx.get(), &response);
  v1::ImportCustomersRequest message;
  message.mutable_header()->set_request_id("impor-\xC3(");
  stream->Write(message);
  message.set_chunk("Nama\nAni\n");
  stream->Write(message);
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(errors::Reason(Decode(status)), "INVALID_UTF8");
  EXPECT_THAT(ViolationFields(status), ElementsAre("header.request_id"));
  EXPECT_EQ(Customers(), 0);
}

// A stream that ends normally (the client half-closes) imports its last record even without
// a line end after it.
TEST_P(CustomerImportTest, ANormalStreamImportsALastRowWithoutLineEnd) {
  ImportResult r =
      Import("Nama,Telepon\r\nAni,0812-1111-2222\r\nBudi Santoso,0812-3456-7890", {}, 5);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 2);
  auto all = AllCustomers();
  ASSERT_NE(ByName(all, "Budi Santoso"), nullptr);
  EXPECT_EQ(ByName(all, "Budi Santoso")->phone().e164(), "+6281234567890");
}

// A database error in the middle of an import (not a row's problem: the disk, the server)
// fails the call with that error. The batches committed before it stay, the failing batch
// is rolled back whole, and nothing after it is applied. A trigger stands in for the fault:
// it fails the insert of the customer named "Boom", the 20th row of the second batch.
TEST_P(CustomerImportTest, ADatabaseErrorMidImportKeepsTheEarlierBatchesOnly) {
  InstallTrigger(
      "CREATE FUNCTION boom_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.display_name = 'Boom' THEN RAISE EXCEPTION 'disk on fire' USING ERRCODE = "
      "'XX000'; END IF; RETURN NEW; END $$;\n"
      "CREATE TRIGGER boom BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION "
      "boom_on_insert();",
      "CREATE TRIGGER boom BEFORE INSERT ON customers WHEN NEW.display_name = 'Boom' "
      "BEGIN SELECT abs(-9223372036854775807 - 1); END;");
  std::string csv = "Nama,Telepon\n";
  for (int i = 0; i < 150; ++i) {  // three batches of 50 (the fixture's batch_rows)
    absl::StrAppend(&csv, i == 69 ? std::string("Boom") : absl::StrCat("Pelanggan ", i), ",\n");
  }
  ImportResult r = Import(csv);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INTERNAL) << Decode(r.status);
  EXPECT_EQ(Customers(), 50);
  auto all = AllCustomers();
  EXPECT_NE(ByName(all, "Pelanggan 49"), nullptr);
  EXPECT_EQ(ByName(all, "Pelanggan 50"), nullptr);
  EXPECT_EQ(ByName(all, "Pelanggan 149"), nullptr);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_stats"), 50);
  EXPECT_EQ(import_store_->bulk_ends(), 1);  // the run of the batch that committed, ended
}

// An import's batches commit as bulk writes (a SQLite log is copied after more of them:
// db::TransactionOptions::bulk_write), and once the import is over it ends their run, so
// that what they left in the log is copied then. A dry run, or an import that changes
// nothing, leaves no run to end.
TEST_P(CustomerImportTest, BatchesAreBulkWritesWhoseRunTheImportEnds) {
  std::string csv = "Nama,Telepon\n";
  for (int i = 0; i < 150; ++i) {  // three batches of 50 (the fixture's batch_rows)
    absl::StrAppend(&csv, "Pelanggan ", i, ",08130000", absl::Dec(i, absl::kZeroPad4), "\n");
  }
  v1::ImportCustomersHeader dry;
  dry.set_dry_run(true);
  ImportResult r = Import(csv, dry);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(import_store_->bulk_ends(), 0);
  const int dry_writes = import_store_->bulk_writes();

  r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 150);
  EXPECT_EQ(import_store_->bulk_writes() - dry_writes, 3);  // the three batches
  EXPECT_EQ(import_store_->other_writes(), 0);
  EXPECT_EQ(import_store_->bulk_ends(), 1);

  r = Import(csv);  // the same rows: nothing to write
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 0);
  EXPECT_EQ(import_store_->bulk_ends(), 1);
}

// Rows that create a plain new customer are written without a savepoint of their own. When
// one fails all the same after its first statement (a trigger stands in for what the batch
// lookups cannot see: here it refuses the phone of the 20th row of the second batch, after
// the customer row went in), the batch runs again row by row: that row alone fails and
// leaves nothing behind, and every other row is created once.
TEST_P(CustomerImportTest, ARowFailingAfterItsFirstWriteLeavesNothingBehind) {
  InstallTrigger(
      "CREATE FUNCTION refuse_phone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.e164 = '+6281300000069' THEN RAISE EXCEPTION 'phone refused' USING "
      "ERRCODE = '23514'; END IF; RETURN NEW; END $$;\n"
      "CREATE TRIGGER refuse BEFORE INSERT ON customer_phones FOR EACH ROW EXECUTE "
      "FUNCTION refuse_phone();",
      "CREATE TRIGGER refuse BEFORE INSERT ON customer_phones WHEN NEW.e164 = "
      "'+6281300000069' BEGIN SELECT RAISE(ABORT, 'phone refused'); END;");
  std::string csv = "Nama,Telepon\n";
  for (int i = 0; i < 150; ++i) {  // three batches of 50 (the fixture's batch_rows)
    absl::StrAppend(&csv, "Pelanggan ", i, ",08130000", absl::Dec(i, absl::kZeroPad4), "\n");
  }
  const int64_t events_before = AllEvents();
  ImportResult r = Import(csv);
  ASSERT_TRUE(r.status.ok()) << Decode(r.status);
  EXPECT_EQ(r.response.created_count(), 149) << r.response.DebugString();
  EXPECT_EQ(r.response.failed_count(), 1);
  ASSERT_EQ(r.response.row_errors_size(), 1);
  EXPECT_EQ(r.response.row_errors(0).line(), 71);  // the header is line 1
  EXPECT_EQ(r.response.row_errors(0).outcome(), v1::IMPORT_ROW_OUTCOME_FAILED);
  EXPECT_EQ(Customers(), 149);
  EXPECT_EQ(ByName(AllCustomers(), "Pelanggan 69"), nullptr);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones"), 149);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_stats"), 149);
  EXPECT_EQ(AllEvents() - events_before, 149);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM idempotency_keys WHERE scope = 'ImportCustomers.row'"),
            149);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerImportTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"));

}  // namespace
}  // namespace kelola::customer::testing_support
