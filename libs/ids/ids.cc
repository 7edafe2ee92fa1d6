#include "libs/ids/ids.h"

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "libs/errors/errors.h"

namespace kelola::ids {
namespace {

constexpr int64_t kMaxTimestampMs = (int64_t{1} << 48) - 1;
constexpr int kCounterBits = 42;
constexpr uint64_t kCounterLimit = uint64_t{1} << kCounterBits;
// A fresh counter starts below half of its range, leaving at least 2^41 increments.
constexpr uint64_t kCounterSeedMask = (uint64_t{1} << (kCounterBits - 1)) - 1;

absl::BitGen MakeBitGen(absl::Span<const uint32_t> seed) {
  std::seed_seq sequence(seed.begin(), seed.end());
  return absl::BitGen(sequence);
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::string Format(const std::array<uint8_t, 16>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(kIdLength);
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xF]);
  }
  return out;
}

}  // namespace

IdGenerator::IdGenerator(const Clock& clock, absl::Span<const uint32_t> seed)
    : clock_(clock), bitgen_(MakeBitGen(seed)) {}

std::array<uint32_t, 8> IdGenerator::OsSeed() {
  std::random_device device;
  std::array<uint32_t, 8> seed;
  for (uint32_t& word : seed) word = device();
  return seed;
}

std::string IdGenerator::NewId() {
  int64_t now_ms = absl::ToUnixMillis(clock_.Now());
  if (now_ms < 0) now_ms = 0;
  if (now_ms > kMaxTimestampMs) now_ms = kMaxTimestampMs;

  int64_t ms;
  uint64_t counter;
  uint32_t random;
  {
    absl::MutexLock lock(&mu_);
    if (now_ms > last_ms_) {
      last_ms_ = now_ms;
      counter_ = absl::Uniform<uint64_t>(bitgen_) & kCounterSeedMask;
    } else if (++counter_ == kCounterLimit) {
      // Same millisecond (or the clock stepped back) and the counter ran out: borrow the
      // next millisecond so that ids keep increasing.
      ++last_ms_;
      counter_ = absl::Uniform<uint64_t>(bitgen_) & kCounterSeedMask;
    }
    ms = last_ms_;
    counter = counter_;
    random = absl::Uniform<uint32_t>(bitgen_);
  }

  std::array<uint8_t, 16> b;
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<uint8_t>(static_cast<uint64_t>(ms) >> (40 - 8 * i));
  const uint64_t rand_a = counter >> 30;                    // top 12 counter bits
  const uint64_t rand_b_high = counter & ((1u << 30) - 1);  // low 30 counter bits
  b[6] = static_cast<uint8_t>(0x70 | (rand_a >> 8));
  b[7] = static_cast<uint8_t>(rand_a);
  b[8] = static_cast<uint8_t>(0x80 | (rand_b_high >> 24));
  b[9] = static_cast<uint8_t>(rand_b_high >> 16);
  b[10] = static_cast<uint8_t>(rand_b_high >> 8);
  b[11] = static_cast<uint8_t>(rand_b_high);
  b[12] = static_cast<uint8_t>(random >> 24);
  b[13] = static_cast<uint8_t>(random >> 16);
  b[14] = static_cast<uint8_t>(random >> 8);
  b[15] = static_cast<uint8_t>(random);
  return Format(b);
}

bool IsValidId(std::string_view id) {
  if (id.size() != kIdLength) return false;
  bool all_zero = true;
  bool all_f = true;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (IsDashPosition(i)) {
      if (c != '-') return false;
      continue;
    }
    if (!IsHex(c)) return false;
    all_zero = all_zero && c == '0';
    all_f = all_f && (c == 'f' || c == 'F');
  }
  return !all_zero && !all_f;
}

absl::StatusOr<std::string> NormalizeId(std::string_view id) {
  if (!IsValidId(id)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonIdInvalid,
                         "id must be a UUID in canonical text form "
                         "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
  }
  return absl::AsciiStrToLower(std::string(id));
}

std::optional<absl::Time> IdTime(std::string_view id) {
  if (!IsValidId(id) || id[14] != '7') return std::nullopt;
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;  // the dash
    ms = (ms << 4) | HexValue(id[i]);
  }
  return absl::FromUnixMillis(ms);
}

}  // namespace kelola::ids
