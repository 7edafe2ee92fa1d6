#include "customer-svc/app/customer_columns.h"

#include "absl/container/flat_hash_map.h"
#include "libs/csv/header_map.h"

namespace kelola::customer::app {

using v1::CustomerColumn;

const std::vector<ColumnInfo>& CustomerColumns() {
  static const auto* const kColumns = new std::vector<ColumnInfo>{
      {v1::CUSTOMER_COLUMN_CUSTOMER_ID,
       "ID Pelanggan",
       "Customer ID",
       "รหัสลูกค้า",
       {"customer_id", "Kode Pelanggan"},
       true},
      {v1::CUSTOMER_COLUMN_DISPLAY_NAME,
       "Nama",
       "Name",
       "ชื่อ",
       {"Nama Pelanggan", "Nama Lengkap", "Customer Name", "Display Name", "Full Name", "ชื่อลูกค้า",
        "ชื่อ-นามสกุล", "ชื่อนามสกุล"},
       true},
      {v1::CUSTOMER_COLUMN_PHONE,
       "Telepon",
       "Phone",
       "โทรศัพท์",
       {"No HP", "No. HP", "Nomor HP", "No Telepon", "Nomor Telepon", "HP", "WA", "WhatsApp",
        "No WA", "Mobile", "Phone Number", "Telp", "เบอร์โทร", "เบอร์โทรศัพท์", "มือถือ", "เบอร์มือถือ"},
       true},
      {v1::CUSTOMER_COLUMN_PHONE_E164,
       "Telepon (E.164)",
       "Phone (E.164)",
       "โทรศัพท์ (E.164)",
       {},
       false},
      {v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES,
       "Telepon Lain",
       "Other Phones",
       "เบอร์อื่น",
       {"Telepon 2", "No HP 2", "Phone 2", "Additional Phones", "เบอร์โทร 2"},
       true},
      {v1::CUSTOMER_COLUMN_EMAIL, "Email", "Email", "อีเมล", {"E-mail", "Surel", "อีเมล์"}, true},
      {v1::CUSTOMER_COLUMN_ADDRESS, "Alamat", "Address", "ที่อยู่", {"Alamat Lengkap"}, true},
      {v1::CUSTOMER_COLUMN_CITY, "Kota", "City", "เมือง", {"Kabupaten/Kota", "อำเภอ"}, true},
      {v1::CUSTOMER_COLUMN_PROVINCE, "Provinsi", "Province", "จังหวัด", {}, true},
      {v1::CUSTOMER_COLUMN_POSTAL_CODE,
       "Kode Pos",
       "Postal Code",
       "รหัสไปรษณีย์",
       {"Zip", "Postcode"},
       true},
      {v1::CUSTOMER_COLUMN_COMPANY_NAME,
       "Perusahaan",
       "Company",
       "บริษัท",
       {"Nama Perusahaan", "Company Name", "Toko", "ร้าน", "ชื่อบริษัท"},
       true},
      {v1::CUSTOMER_COLUMN_CATEGORY,
       "Kategori",
       "Category",
       "หมวดหมู่",
       {"Kategori Pelanggan", "กลุ่มลูกค้า", "ประเภทลูกค้า"},
       true},
      {v1::CUSTOMER_COLUMN_NOTES, "Catatan", "Notes", "หมายเหตุ", {"Keterangan", "Note"}, true},
      {v1::CUSTOMER_COLUMN_BIRTHDAY,
       "Tanggal Lahir",
       "Birthday",
       "วันเกิด",
       {"Tgl Lahir", "Date of Birth", "DOB", "Ulang Tahun"},
       true},
      {v1::CUSTOMER_COLUMN_MARKETING_CONSENT,
       "Setuju Promosi",
       "Marketing Consent",
       "ยินยอมรับข่าวสาร",
       {"Consent"},
       true},
      {v1::CUSTOMER_COLUMN_FAVOURITE_PRODUCTS,
       "Produk Favorit",
       "Favourite Products",
       "สินค้าที่ชอบ",
       {"Favorite Products"},
       true},
      {v1::CUSTOMER_COLUMN_SPECIAL_NEEDS,
       "Kebutuhan Khusus",
       "Special Needs",
       "ความต้องการพิเศษ",
       {},
       true},
      {v1::CUSTOMER_COLUMN_PREFERRED_CHANNEL,
       "Saluran Favorit",
       "Preferred Channel",
       "ช่องทางที่สะดวก",
       {},
       true},
      {v1::CUSTOMER_COLUMN_STATE, "Status", "Status", "สถานะ", {}, false},
      {v1::CUSTOMER_COLUMN_CREATE_TIME, "Tanggal Ditambahkan", "Date Added", "วันที่เพิ่ม", {}, false},
      {v1::CUSTOMER_COLUMN_TOTAL_SPENT, "Total Belanja", "Total Spent", "ยอดซื้อรวม", {}, false},
      {v1::CUSTOMER_COLUMN_TRANSACTION_COUNT,
       "Jumlah Transaksi",
       "Transactions",
       "จำนวนธุรกรรม",
       {},
       false},
      {v1::CUSTOMER_COLUMN_BALANCE, "Saldo", "Balance", "ยอดคงค้าง", {}, false},
      {v1::CUSTOMER_COLUMN_FIRST_PURCHASE_TIME,
       "Pembelian Pertama",
       "First Purchase",
       "ซื้อครั้งแรก",
       {},
       false},
      {v1::CUSTOMER_COLUMN_LAST_PURCHASE_TIME,
       "Pembelian Terakhir",
       "Last Purchase",
       "ซื้อครั้งล่าสุด",
       {},
       false},
      {v1::CUSTOMER_COLUMN_LAST_ACTIVITY_TIME,
       "Aktivitas Terakhir",
       "Last Activity",
       "กิจกรรมล่าสุด",
       {},
       false},
  };
  return *kColumns;
}

const ColumnInfo* FindColumn(CustomerColumn column) {
  for (const auto& c : CustomerColumns()) {
    if (c.column == column) return &c;
  }
  return nullptr;
}

CustomerColumn ColumnForHeader(absl::string_view header) {
  static const auto* const kByName = [] {
    auto* map = new absl::flat_hash_map<std::string, CustomerColumn>();
    for (const auto& c : CustomerColumns()) {
      for (const char* name : {c.id, c.en, c.th})
        map->emplace(csv::NormalizeHeaderName(name), c.column);
      for (const char* name : c.aliases) map->emplace(csv::NormalizeHeaderName(name), c.column);
    }
    return map;
  }();
  auto it = kByName->find(csv::NormalizeHeaderName(header));
  return it == kByName->end() ? v1::CUSTOMER_COLUMN_UNSPECIFIED : it->second;
}

std::string ColumnHeader(CustomerColumn column, absl::string_view language) {
  const ColumnInfo* info = FindColumn(column);
  if (info == nullptr) return "";
  if (language == "id") return info->id;
  if (language == "th") return info->th;
  return info->en;
}

std::string YesNo(bool yes, absl::string_view language) {
  if (language == "id") return yes ? "Ya" : "Tidak";
  if (language == "th") return yes ? "ใช่" : "ไม่";
  return yes ? "Yes" : "No";
}

}  // namespace kelola::customer::app
