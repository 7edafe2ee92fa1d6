#include "libs/csv/header_map.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::csv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::vector<ColumnSpec>& CustomerColumns() {
  static const auto* specs = new std::vector<ColumnSpec>{
      {"name", {"Name", "Nama", "Nama Pelanggan", "ชื่อ", "ชื่อลูกค้า"}, /*required=*/true},
      {"phone", {"Phone", "Telepon", "No HP", "เบอร์โทร"}, /*required=*/false, /*multiple=*/true},
      {"email", {"Email", "E-mail", "อีเมล"}},
      {"category", {}},
  };
  return *specs;
}

TEST(HeaderMapTest, NormalizeHeaderName) {
  EXPECT_EQ(NormalizeHeaderName("  Nama Pelanggan "), "namapelanggan");
  EXPECT_EQ(NormalizeHeaderName("NAMA_PELANGGAN"), "namapelanggan");
  EXPECT_EQ(NormalizeHeaderName("E-Mail"), "email");
  EXPECT_EQ(NormalizeHeaderName("No. HP"), "nohp");
  EXPECT_EQ(NormalizeHeaderName("Télépon"), "telepon");
  EXPECT_EQ(NormalizeHeaderName("เบอร์ โทร"), NormalizeHeaderName("เบอร์โทร"));
  EXPECT_EQ(NormalizeHeaderName("ＮＡＭＡ"), "nama");
}

TEST(HeaderMapTest, MapsAliasesInAnyCaseAndSpacing) {
  const std::vector<std::string> header = {"NO. HP", "nama pelanggan", "Fax",
                                           "",       "e_mail",         "เบอร์ โทร"};
  auto map = HeaderMap::Create(header, CustomerColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->IndexOf("name"), 1u);
  EXPECT_EQ(map->IndexOf("email"), 4u);
  EXPECT_THAT(map->IndexesOf("phone"), ElementsAre(0u, 5u));
  EXPECT_FALSE(map->Has("category"));
  EXPECT_EQ(map->IndexOf("category"), std::nullopt);
  EXPECT_EQ(map->IndexOf("no-such-key"), std::nullopt);
  EXPECT_THAT(map->unknown_columns(), ElementsAre("Fax"));
  EXPECT_EQ(map->header_size(), 6u);

  Record record;
  record.fields = {"0812", "Siti Nurhaliza"};  // a short row
  EXPECT_EQ(map->Get(record, "name"), "Siti Nurhaliza");
  EXPECT_EQ(map->Get(record, "email"), "");
  EXPECT_EQ(map->Get(record, "category"), "");
}

TEST(HeaderMapTest, ThaiHeader) {
  auto map = HeaderMap::Create({"ชื่อลูกค้า", "เบอร์โทร", "อีเมล"}, CustomerColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->IndexOf("name"), 0u);
  EXPECT_EQ(map->IndexOf("phone"), 1u);
  EXPECT_EQ(map->IndexOf("email"), 2u);
}

TEST(HeaderMapTest, KeyIsTheNameWhenNoNamesAreGiven) {
  auto map = HeaderMap::Create({"Name", "CATEGORY"}, CustomerColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->IndexOf("category"), 1u);
}

TEST(HeaderMapTest, ReportsEveryProblemAtOnce) {
  HeaderMapOptions options;
  options.reject_unknown_columns = true;
  auto map = HeaderMap::Create({"Email", "Fax", "E-mail", "Kota"}, CustomerColumns(), options,
                               /*header_line=*/2);
  ASSERT_FALSE(map.ok());
  const absl::Status& status = map.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(status), kReasonCsvHeaderInvalid);
  EXPECT_THAT(status.message(), HasSubstr("line 2"));
  EXPECT_THAT(status.message(), HasSubstr("Nama Pelanggan"));
  auto metadata = errors::GetMetadata(status);
  EXPECT_EQ(metadata["missing"], "name");
  EXPECT_EQ(metadata["unknown"], "Fax,Kota");
  EXPECT_EQ(metadata["duplicate"], "E-mail");
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(status)) fields.push_back(v.field);
  EXPECT_THAT(fields, UnorderedElementsAre("header", "header[1]", "header[2]", "header[3]"));
}

TEST(HeaderMapTest, UnknownColumnsAreIgnoredByDefault) {
  auto map = HeaderMap::Create({"Nama", "Kota"}, CustomerColumns());
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_THAT(map->unknown_columns(), ElementsAre("Kota"));
}

TEST(HeaderMapTest, InconsistentSpecsAreRefused) {
  std::vector<ColumnSpec> specs = {{"a", {"Name"}}, {"b", {"NAME"}}};
  EXPECT_EQ(errors::Reason(HeaderMap::Create({"x"}, specs).status()), kReasonCsvColumnSpecInvalid);
  specs = {{"a", {}}, {"a", {}}};
  EXPECT_EQ(errors::Reason(HeaderMap::Create({"x"}, specs).status()), kReasonCsvColumnSpecInvalid);
}

}  // namespace
}  // namespace kelola::csv
