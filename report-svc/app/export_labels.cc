#include "report-svc/app/export_labels.h"

namespace kelola::report::app {
namespace {

constexpr ExportLabels kIndonesian{
    .page = "Halaman",
    .generated = "Dibuat",
    .data_as_of = "Data per",
    .period = "Periode",
    .time_zone = "Zona waktu",
    .category = "Kategori",
    .store = "Toko",
    .all = "semua",
    .overdue_only = "Hanya yang lewat jatuh tempo",
    .order = "Urutan",
    .filter = "Filter",
    .no_rows = "Tidak ada data",
    .yes = "Ya",
    .no = "Tidak",
    .total = "Total",
    .customer_report_title = "Laporan Pelanggan",
    .receivables_title = "Laporan Piutang",
    .customer_id = "ID Pelanggan",
    .customer = "Pelanggan",
    .phone = "Telepon",
    .whatsapp = "WhatsApp",
    .balance = "Saldo",
    .age_0_to_30 = "0–30 hari",
    .age_31_to_60 = "31–60 hari",
    .age_61_to_90 = "61–90 hari",
    .age_over_90 = "> 90 hari",
    .overdue = "Lewat jatuh tempo",
    .days_overdue = "Hari terlambat",
    .oldest_open_sale = "Penjualan terbuka tertua",
    .last_payment = "Pembayaran terakhir",
    .segment = "Segmen",
    .recency_days = "Hari sejak pembelian",
    .frequency = "Frekuensi (365 hari)",
    .monetary = "Belanja (365 hari)",
    .total_spent = "Total belanja",
    .first_purchase = "Pembelian pertama",
    .last_purchase = "Pembelian terakhir",
    .marketing_consent = "Setuju promosi",
    .item = "Keterangan",
    .rank = "Peringkat",
    .value = "Nilai",
    .transactions = "Transaksi",
    .start_date = "Mulai",
    .end_date = "Sampai",
    .total_customers = "Jumlah pelanggan",
    .new_customers = "Pelanggan baru",
    .active_customers = "Pelanggan aktif",
    .total_sales = "Total penjualan",
    .transaction_count = "Jumlah transaksi",
    .average_customer_value = "Rata-rata nilai pelanggan",
    .average_order_value = "Rata-rata nilai transaksi",
    .purchase_frequency = "Frekuensi pembelian",
    .top_customer = "Pelanggan teratas",
};

constexpr ExportLabels kThai{
    .page = "หน้า",
    .generated = "สร้างเมื่อ",
    .data_as_of = "ข้อมูล ณ",
    .period = "ช่วงเวลา",
    .time_zone = "เขตเวลา",
    .category = "หมวดหมู่",
    .store = "ร้าน",
    .all = "ทั้งหมด",
    .overdue_only = "เฉพาะที่เกินกำหนดชำระ",
    .order = "เรียงตาม",
    .filter = "ตัวกรอง",
    .no_rows = "ไม่มีข้อมูล",
    .yes = "ใช่",
    .no = "ไม่ใช่",
    .total = "รวม",
    .customer_report_title = "รายงานลูกค้า",
    .receivables_title = "รายงานลูกหนี้",
    .customer_id = "รหัสลูกค้า",
    .customer = "ลูกค้า",
    .phone = "โทรศัพท์",
    .whatsapp = "WhatsApp",
    .balance = "ยอดค้างชำระ",
    .age_0_to_30 = "0–30 วัน",
    .age_31_to_60 = "31–60 วัน",
    .age_61_to_90 = "61–90 วัน",
    .age_over_90 = "> 90 วัน",
    .overdue = "เกินกำหนดชำระ",
    .days_overdue = "จำนวนวันที่เกินกำหนด",
    .oldest_open_sale = "การขายค้างชำระเก่าสุด",
    .last_payment = "ชำระล่าสุด",
    .segment = "กลุ่มลูกค้า",
    .recency_days = "วันนับจากซื้อล่าสุด",
    .frequency = "ความถี่ (365 วัน)",
    .monetary = "ยอดซื้อ (365 วัน)",
    .total_spent = "ยอดซื้อรวม",
    .first_purchase = "ซื้อครั้งแรก",
    .last_purchase = "ซื้อล่าสุด",
    .marketing_consent = "ยินยอมรับข่าวสาร",
    .item = "รายการ",
    .rank = "อันดับ",
    .value = "ค่า",
    .transactions = "จำนวนครั้งที่ซื้อ",
    .start_date = "เริ่ม",
    .end_date = "สิ้นสุด",
    .total_customers = "ลูกค้าทั้งหมด",
    .new_customers = "ลูกค้าใหม่",
    .active_customers = "ลูกค้าที่มีการซื้อ",
    .total_sales = "ยอดขายรวม",
    .transaction_count = "จำนวนธุรกรรม",
    .average_customer_value = "มูลค่าเฉลี่ยต่อลูกค้า",
    .average_order_value = "ยอดเฉลี่ยต่อบิล",
    .purchase_frequency = "ความถี่ในการซื้อ",
    .top_customer = "ลูกค้าอันดับต้น",
};

constexpr ExportLabels kEnglish{
    .page = "Page",
    .generated = "Generated",
    .data_as_of = "Data as of",
    .period = "Period",
    .time_zone = "Time zone",
    .category = "Category",
    .store = "Store",
    .all = "all",
    .overdue_only = "Overdue only",
    .order = "Order",
    .filter = "Filter",
    .no_rows = "No data",
    .yes = "Yes",
    .no = "No",
    .total = "Total",
    .customer_report_title = "Customer report",
    .receivables_title = "Receivables report",
    .customer_id = "Customer ID",
    .customer = "Customer",
    .phone = "Phone",
    .whatsapp = "WhatsApp",
    .balance = "Balance",
    .age_0_to_30 = "0–30 days",
    .age_31_to_60 = "31–60 days",
    .age_61_to_90 = "61–90 days",
    .age_over_90 = "> 90 days",
    .overdue = "Overdue",
    .days_overdue = "Days overdue",
    .oldest_open_sale = "Oldest open sale",
    .last_payment = "Last payment",
    .segment = "Segment",
    .recency_days = "Days since purchase",
    .frequency = "Frequency (365 days)",
    .monetary = "Spent (365 days)",
    .total_spent = "Total spent",
    .first_purchase = "First purchase",
    .last_purchase = "Last purchase",
    .marketing_consent = "Marketing consent",
    .item = "Item",
    .rank = "Rank",
    .value = "Value",
    .transactions = "Transactions",
    .start_date = "Start",
    .end_date = "End",
    .total_customers = "Total customers",
    .new_customers = "New customers",
    .active_customers = "Active customers",
    .total_sales = "Total sales",
    .transaction_count = "Transactions",
    .average_customer_value = "Average customer value",
    .average_order_value = "Average order value",
    .purchase_frequency = "Purchase frequency",
    .top_customer = "Top customer",
};

// Picks the word of `language` among the three.
const char* Pick(absl::string_view language, const char* id, const char* th, const char* en) {
  if (language == "id") return id;
  if (language == "th") return th;
  return en;
}

}  // namespace

const ExportLabels& LabelsFor(absl::string_view language) {
  if (language == "id") return kIndonesian;
  if (language == "th") return kThai;
  return kEnglish;
}

std::string InsightTitle(v1::InsightKind kind, absl::string_view language) {
  switch (kind) {
    case v1::INSIGHT_KIND_BEST:
      return Pick(language, "Pelanggan Terbaik", "ลูกค้าชั้นดี", "Best customers");
    case v1::INSIGHT_KIND_LOYAL:
      return Pick(language, "Pelanggan Setia", "ลูกค้าประจำ", "Loyal customers");
    case v1::INSIGHT_KIND_AT_RISK:
      return Pick(language, "Pelanggan Berisiko", "ลูกค้าที่มีความเสี่ยง", "Customers at risk");
    case v1::INSIGHT_KIND_INACTIVE:
      return Pick(language, "Pelanggan Tidak Aktif", "ลูกค้าที่ไม่เคลื่อนไหว", "Inactive customers");
    case v1::INSIGHT_KIND_NEW:
      return Pick(language, "Pelanggan Baru", "ลูกค้าใหม่", "New customers");
    case v1::INSIGHT_KIND_PAYMENT_REMINDER:
      return Pick(language, "Pengingat Pembayaran", "รายการแจ้งเตือนชำระเงิน", "Payment reminders");
    default:
      return "";
  }
}

std::string SegmentName(v1::CustomerSegment segment, absl::string_view language) {
  switch (segment) {
    case v1::CUSTOMER_SEGMENT_NO_PURCHASES:
      return Pick(language, "Belum pernah membeli", "ยังไม่เคยซื้อ", "No purchases");
    case v1::CUSTOMER_SEGMENT_NEW:
      return Pick(language, "Baru", "ใหม่", "New");
    case v1::CUSTOMER_SEGMENT_INACTIVE:
      return Pick(language, "Tidak aktif", "ไม่เคลื่อนไหว", "Inactive");
    case v1::CUSTOMER_SEGMENT_BEST:
      return Pick(language, "Terbaik", "ชั้นดี", "Best");
    case v1::CUSTOMER_SEGMENT_AT_RISK:
      return Pick(language, "Berisiko", "มีความเสี่ยง", "At risk");
    case v1::CUSTOMER_SEGMENT_LOYAL:
      return Pick(language, "Setia", "ประจำ", "Loyal");
    case v1::CUSTOMER_SEGMENT_REGULAR:
      return Pick(language, "Reguler", "ทั่วไป", "Regular");
    default:
      return "";
  }
}

std::string MetricName(v1::SeriesMetric metric, absl::string_view language) {
  switch (metric) {
    case v1::SERIES_METRIC_NEW_CUSTOMERS:
      return Pick(language, "Pelanggan baru", "ลูกค้าใหม่", "New customers");
    case v1::SERIES_METRIC_RECEIVABLES:
      return Pick(language, "Piutang", "ลูกหนี้", "Receivables");
    case v1::SERIES_METRIC_SALES:
      return Pick(language, "Penjualan", "ยอดขาย", "Sales");
    default:
      return "";
  }
}

std::string GranularityName(v1::Granularity granularity, absl::string_view language) {
  switch (granularity) {
    case v1::GRANULARITY_DAY:
      return Pick(language, "Harian", "รายวัน", "Daily");
    case v1::GRANULARITY_WEEK:
      return Pick(language, "Mingguan", "รายสัปดาห์", "Weekly");
    case v1::GRANULARITY_MONTH:
      return Pick(language, "Bulanan", "รายเดือน", "Monthly");
    default:
      return "";
  }
}

}  // namespace kelola::report::app
