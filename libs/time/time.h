#pragma once

// Instants and calendar days at the edges of the services: google.protobuf.Timestamp ↔
// absl::Time (and the microseconds the databases store), kelola.type.v1.Date ↔
// absl::CivilDay. The one place these conversions are written.
//
// Every Timestamp and Date a request carries is checked here before it is used:
// ValidateTimestamp / FromTimestamp and ValidateDate / FromDate answer INVALID_ARGUMENT
// (reason INVALID_ARGUMENT) with a BadRequest naming the field and saying why. A Timestamp
// outside the range protobuf documents (0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z, nanos 0–999,999,999) has no RFC 3339 form: stored once,
// it would make every later JSON rendering of the record (exports, events) fail.
//
// Conversions of values the services made themselves (stored micros, `now`) never fail:
// ToTimestamp clamps an absl::Time into the range, so that what is written is always valid.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "kelola/type/v1/date.pb.h"

namespace kelola::time {

inline constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
inline constexpr int32_t kMaxTimestampNanos = 999999999;

// ---- google.protobuf.Timestamp ----

// OK when `ts` lies in the documented range; else INVALID_ARGUMENT naming `field`.
absl::Status ValidateTimestamp(const google::protobuf::Timestamp& ts, absl::string_view field);

// The instant of a Timestamp from a request: ValidateTimestamp, then the conversion.
absl::StatusOr<absl::Time> FromTimestamp(const google::protobuf::Timestamp& ts,
                                         absl::string_view field);

// The instant of a Timestamp the services wrote (stored records, events of a peer);
// values outside the range are clamped to its ends.
absl::Time ToTime(const google::protobuf::Timestamp& ts);

// `t` as a Timestamp, rounded down to the nanosecond and clamped into the range (the
// infinite past and future become its ends).
google::protobuf::Timestamp ToTimestamp(absl::Time t);

// Clamps, in place, every Timestamp inside a message read back from storage (nested
// messages, repeated and map fields, and google.protobuf.Any payloads of known types) into
// the documented range, so that a record stored before the range was enforced still reads
// and renders (JSON exports, events). Logs one warning per process the first time a value
// is clamped. Returns whether anything was changed. Only the fields whose types can reach a
// Timestamp or an Any are visited (found once per type and thread): every customer a list or
// an export returns passes through here. Extensions are not visited (no stored message has
// any).
bool ClampStoredTimestamps(google::protobuf::Message* message);

// Microseconds since the epoch, the form the databases store: rounded down.
int64_t ToUnixMicros(const google::protobuf::Timestamp& ts);
google::protobuf::Timestamp TimestampFromUnixMicros(int64_t micros);

// ---- kelola.type.v1.Date ----

struct DateRules {
  int min_year = 1;
  int max_year = 9999;
  // Year 0 means "unknown year" (a birthday given as day and month); 29 February is then
  // allowed.
  bool allow_unknown_year = false;
};

// OK when `date` is a day that exists under `rules`; else INVALID_ARGUMENT naming `field`.
absl::Status ValidateDate(const type::v1::Date& date, absl::string_view field,
                          const DateRules& rules = {});

// The day of a Date from a request (its year required): ValidateDate, then the conversion.
absl::StatusOr<absl::CivilDay> FromDate(const type::v1::Date& date, absl::string_view field,
                                        const DateRules& rules = {});

// The day of a Date the services wrote (no check: an impossible day is normalized).
absl::CivilDay ToCivilDay(const type::v1::Date& date);

type::v1::Date ToDate(absl::CivilDay day);

// The IANA zone `name`; the zones of Indonesia and Thailand (Asia/Jakarta, Asia/Pontianak,
// Asia/Makassar, Asia/Jayapura, Asia/Bangkok) also where no tzdata is installed (a slim
// container), as fixed offsets: none of them has daylight saving time. INTERNAL for any
// other zone that cannot be loaded.
absl::StatusOr<absl::TimeZone> LoadTenantTimeZone(const std::string& name);

}  // namespace kelola::time
