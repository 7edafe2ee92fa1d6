#pragma once

// Identifiers: UUIDs in canonical text form ("0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60").
// Servers mint UUIDv7 (RFC 9562: time-ordered, so new rows land at the end of B-tree
// indexes and ids sort by creation time); clients -- offline devices that create customers
// before they sync (C1) -- may supply UUIDs of any version.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "libs/clock/clock.h"

namespace kelola::ids {

// Machine-readable reason (INVALID_ARGUMENT).
inline constexpr char kReasonIdInvalid[] = "ID_INVALID";

// Length of the canonical text form.
inline constexpr size_t kIdLength = 36;

// Mints UUIDv7 ids. Thread-safe.
//
// Layout (RFC 9562 section 5.7, monotonic counter per section 6.2 method 1):
//   48 bits  Unix time in milliseconds, from the injected Clock
//    4 bits  version 7
//   12 bits  + 30 bits: a 42-bit counter, re-seeded with a random 41-bit value at each new
//            millisecond and incremented within the same millisecond
//    2 bits  variant 10
//   32 bits  random
// Ids from one generator are strictly increasing, as text too, even when many are made in
// one millisecond or the clock steps back (the last timestamp is then reused; if the counter
// runs out the timestamp moves one millisecond ahead).
class IdGenerator {
 public:
  // `seed` feeds the random bits. The same seed and the same clock readings give the same
  // ids, which tests use; production passes OsSeed().
  IdGenerator(const Clock& clock, absl::Span<const uint32_t> seed);

  IdGenerator(const IdGenerator&) = delete;
  IdGenerator& operator=(const IdGenerator&) = delete;

  // 256 bits from the operating system's entropy source (std::random_device).
  static std::array<uint32_t, 8> OsSeed();

  // A new UUIDv7, lower-case, 36 characters.
  std::string NewId();

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  int64_t last_ms_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t counter_ ABSL_GUARDED_BY(mu_) = 0;
};

// True for canonical UUID text of any version and variant, upper or lower case
// (8-4-4-4-12 hex digits with '-'). The nil UUID (all zeros) and the max UUID (all 'f') are
// refused: clients send them by mistake, never as real ids. No braces, no "urn:uuid:".
bool IsValidId(std::string_view id);

// The stored form of a client-supplied id: lower case. INVALID_ARGUMENT ID_INVALID when
// !IsValidId(id).
absl::StatusOr<std::string> NormalizeId(std::string_view id);

// The creation time embedded in a valid UUIDv7 (millisecond precision); nullopt for other
// versions and invalid text.
std::optional<absl::Time> IdTime(std::string_view id);

}  // namespace kelola::ids
