#include "bench/report_feed/history_plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kelola::bench {
namespace {

int64_t SpanMicros(const HistoryPlan& plan) { return absl::ToInt64Microseconds(plan.span); }

}  // namespace

absl::Time HistoryPlan::CustomerCreated(int64_t c) const {
  // 128-bit product: span (~6.3e13 µs) times a customer index overflows 64 bits past ~1e5.
  const __int128 offset =
      static_cast<__int128>(SpanMicros(*this)) * c / std::max<int64_t>(1, customers);
  return start() + absl::Microseconds(static_cast<int64_t>(offset));
}

int64_t HistoryPlan::CustomersBy(absl::Time t) const {
  const int64_t elapsed = std::max<int64_t>(0, absl::ToInt64Microseconds(t - start()));
  const __int128 created = static_cast<__int128>(elapsed) * customers / SpanMicros(*this) + 1;
  return std::clamp<int64_t>(static_cast<int64_t>(created), 1, customers);
}

std::string HistoryPlan::CustomerId(int64_t c) const {
  return SyntheticUuid(CustomerCreated(c), Mix(seed, c, 0xC057));
}

std::string HistoryPlan::CategoryId(int k) const {
  return SyntheticUuid(start(), Mix(seed, k, 0xCA7));
}

std::string HistoryPlan::StoreId(int s) const { return absl::StrCat("store-", s + 1); }

absl::TimeZone TenantZone() { return absl::FixedTimeZone(7 * 60 * 60); }

absl::CivilDay TenantDay(absl::Time t) { return absl::ToCivilDay(t, TenantZone()); }

uint64_t Mix(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL ^
               (c + 0x94d049bb133111ebULL);
  for (int round = 0; round < 2; ++round) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
  }
  return x;
}

std::string SyntheticUuid(absl::Time t, uint64_t index) {
  const uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(t)) & 0xffffffffffffULL;
  const uint64_t bits = Mix(index, 0x5eed);
  return absl::StrFormat("%08x-%04x-7%03x-%04x-%012x", millis >> 16, millis & 0xffff,
                         (bits >> 52) & 0xfff, 0x8000 | ((bits >> 36) & 0x3fff),
                         index & 0xffffffffffffULL);
}

type::v1::Money Idr(int64_t minor) {
  type::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code("IDR");
  return money;
}

}  // namespace kelola::bench
