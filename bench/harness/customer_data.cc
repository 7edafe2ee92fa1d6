#include "bench/harness/customer_data.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kelola::bench {
namespace {

constexpr const char* kIdGiven[] = {
    "Budi",   "Siti",    "Agus",   "Dewi",    "Rina",   "Andi",  "Putri",  "Wahyu",
    "Sri",    "Eko",     "Joko",   "Ahmad",   "Nur",    "Dian",  "Ratna",  "Hendra",
    "Yanti",  "Fitri",   "Rudi",   "Bambang", "Indah",  "Ayu",   "Rizky",  "Fajar",
    "Dimas",  "Wulan",   "Made",   "Ketut",   "Komang", "Yusuf", "Aisyah", "Intan",
    "Taufik", "Lestari", "Gilang", "Nanda",   "Citra",  "Bayu",  "Rahmat", "Kartika"};
constexpr const char* kIdFamily[] = {
    "Santoso", "Wijaya",  "Saputra", "Hidayat",   "Pratama",     "Susanto", "Setiawan",
    "Kusuma",  "Nugroho", "Siregar", "Nasution",  "Sihombing",   "Lubis",   "Gunawan",
    "Halim",   "Tanjung", "Harahap", "Purnomo",   "Wibowo",      "Hakim",   "Suryadi",
    "Permana", "Rahayu",  "Utami",   "Anggraini", "Simanjuntak", "Putra",   "Sari",
    "Hartono", "Tan",     "Lim",     "Salim"};
constexpr const char* kThGiven[] = {"สมชาย", "สมศรี",  "ประเสริฐ", "กาญจนา", "สุรชัย",  "วิไลวรรณ",
                                    "ณัฐพล",  "ปิยะ",   "อรุณ",     "สุนทร",   "พรทิพย์", "ชัยวัฒน์",
                                    "ศิริพร",  "ธนากร", "นภา",     "วรรณา",  "อนันต์",  "จิราพร",
                                    "กิตติ",   "มาลี",   "สุภาพ",    "ปรีชา",   "รัตนา",  "ธีรวัฒน์"};
constexpr const char* kThFamily[] = {"ใจดี",    "ศรีสุข",   "วงศ์ไทย",  "สุขสวัสดิ์", "แก้วมณี",  "บุญมา",
                                     "ทองดี",   "พรหมมา", "จันทร์เพ็ญ", "รุ่งเรือง", "ศรีสวัสดิ์", "มั่นคง",
                                     "เจริญผล", "สายทอง", "อินทร์แก้ว", "ปัญญาดี",  "สมบูรณ์",  "รักษ์ไทย"};
constexpr const char* kIdMobilePrefixes[] = {"812", "813", "821", "822", "852", "853", "857",
                                             "858", "878", "896", "897", "898", "899", "838"};
constexpr const char* kThMobilePrefixes[] = {"81", "82", "83", "84", "86", "89", "91",
                                             "92", "95", "96", "98", "61", "62", "63"};
constexpr const char* kIdEmailDomains[] = {"gmail.com", "yahoo.co.id", "outlook.com"};
constexpr const char* kThEmailDomains[] = {"gmail.com", "hotmail.co.th", "outlook.co.th"};

template <typename T, size_t N>
constexpr size_t Size(T (&)[N]) {
  return N;
}

// A stateless 64-bit mix (splitmix64): the same input always gives the same output.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

SyntheticCustomer CustomerData::Make(int64_t index) const {
  const uint64_t h = Mix(seed_ ^ Mix(static_cast<uint64_t>(index)));
  const bool thai = static_cast<int>(h % 100) < thai_share_percent_;
  const uint64_t g = Mix(h + 1);
  const uint64_t f = Mix(h + 2);
  SyntheticCustomer out;
  // The number part comes from the index through a bijection modulo 10^7 (Thai) or 10^8
  // (Indonesian); the multiplier is coprime to 10, so phones never repeat within 10
  // million customers.
  const uint64_t scrambled = static_cast<uint64_t>(index) * 7919ULL + seed_;
  const int style = static_cast<int>(Mix(h + 3) % 4);
  if (thai) {
    out.region = "TH";
    out.display_name =
        absl::StrCat(kThGiven[g % Size(kThGiven)], " ", kThFamily[f % Size(kThFamily)]);
    const std::string prefix = kThMobilePrefixes[(h >> 8) % Size(kThMobilePrefixes)];
    const std::string digits = absl::StrFormat("%07d", scrambled % 10000000ULL);
    // The data set is one shop's customers in Indonesia, so Thai numbers are typed with
    // their country code, in the ways people write it.
    switch (style) {
      case 0:
        out.phone = absl::StrCat("+66", prefix, digits);
        break;
      case 1:
        out.phone = absl::StrCat("+66-", prefix, "-", digits.substr(0, 3), "-", digits.substr(3));
        break;
      default:
        out.phone = absl::StrCat("+66 ", prefix, " ", digits.substr(0, 3), " ", digits.substr(3));
    }
    if (Mix(h + 4) % 3 != 0) {
      out.email = absl::StrCat("customer", index, "@", kThEmailDomains[(h >> 16) % 3]);
    }
  } else {
    out.region = "ID";
    const std::string given = kIdGiven[g % Size(kIdGiven)];
    const std::string family = kIdFamily[f % Size(kIdFamily)];
    out.display_name = absl::StrCat(given, " ", family);
    const std::string prefix = kIdMobilePrefixes[(h >> 8) % Size(kIdMobilePrefixes)];
    // An 11-digit national number, like most Indonesian mobiles.
    const std::string digits = absl::StrFormat("%08d", scrambled % 100000000ULL);
    switch (style) {
      case 0:
        out.phone = absl::StrCat("0", prefix, digits);
        break;
      case 1:
        out.phone = absl::StrCat("0", prefix, "-", digits.substr(0, 4), "-", digits.substr(4));
        break;
      case 2:
        out.phone = absl::StrCat("+62 ", prefix, " ", digits.substr(0, 4), " ", digits.substr(4));
        break;
      default:
        out.phone = absl::StrCat("62", prefix, digits);
    }
    if (Mix(h + 4) % 3 != 0) {
      out.email = absl::StrCat(absl::AsciiStrToLower(given), ".", absl::AsciiStrToLower(family),
                               index, "@", kIdEmailDomains[(h >> 16) % 3]);
    }
  }
  return out;
}

}  // namespace kelola::bench
