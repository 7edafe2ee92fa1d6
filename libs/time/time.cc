#include "libs/time/time.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/errors/errors.h"

namespace kelola::time {
namespace {

absl::Status Invalid(absl::string_view field, std::string description) {
  errors::FieldErrors errors;
  errors.Add(std::string(field), std::move(description));
  return errors.ToStatus();
}

absl::Time MinTime() { return absl::FromUnixSeconds(kMinTimestampSeconds); }

absl::Time MaxTime() {
  return absl::FromUnixSeconds(kMaxTimestampSeconds) + absl::Nanoseconds(kMaxTimestampNanos);
}

}  // namespace

absl::Status ValidateTimestamp(const google::protobuf::Timestamp& ts, absl::string_view field) {
  if (ts.seconds() < kMinTimestampSeconds || ts.seconds() > kMaxTimestampSeconds) {
    return Invalid(field, absl::StrCat("seconds must be between ", kMinTimestampSeconds,
                                       " (0001-01-01T00:00:00Z) and ", kMaxTimestampSeconds,
                                       " (9999-12-31T23:59:59Z)"));
  }
  if (ts.nanos() < 0 || ts.nanos() > kMaxTimestampNanos) {
    return Invalid(field, absl::StrCat("nanos must be between 0 and ", kMaxTimestampNanos));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> FromTimestamp(const google::protobuf::Timestamp& ts,
                                         absl::string_view field) {
  if (absl::Status valid = ValidateTimestamp(ts, field); !valid.ok()) return valid;
  return ToTime(ts);
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() < kMinTimestampSeconds) return MinTime();
  if (ts.seconds() > kMaxTimestampSeconds) return MaxTime();
  const int32_t nanos = ts.nanos() < 0                    ? 0
                        : ts.nanos() > kMaxTimestampNanos ? kMaxTimestampNanos
                                                          : ts.nanos();
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(nanos);
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  if (t < MinTime()) t = MinTime();
  if (t > MaxTime()) t = MaxTime();
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds down
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));  // in [0, 1s)
  return out;
}

int64_t ToUnixMicros(const google::protobuf::Timestamp& ts) {
  return absl::ToUnixMicros(ToTime(ts));
}

google::protobuf::Timestamp TimestampFromUnixMicros(int64_t micros) {
  return ToTimestamp(absl::FromUnixMicros(micros));
}

absl::Status ValidateDate(const type::v1::Date& date, absl::string_view field,
                          const DateRules& rules) {
  const bool unknown_year = date.year() == 0 && rules.allow_unknown_year;
  if (!unknown_year && (date.year() < rules.min_year || date.year() > rules.max_year)) {
    return Invalid(field,
                   absl::StrCat("year must be between ", rules.min_year, " and ", rules.max_year,
                                rules.allow_unknown_year ? ", or 0 when unknown" : ""));
  }
  if (date.month() < 1 || date.month() > 12) return Invalid(field, "month must be 1-12");
  if (date.day() < 1 || date.day() > 31) return Invalid(field, "day must be 1-31");
  const int64_t year = unknown_year ? 2000 : date.year();  // 2000 is a leap year
  const absl::CivilDay day(year, date.month(), date.day());
  if (day.month() != date.month() || day.day() != date.day()) {
    return Invalid(field,
                   absl::StrFormat("day %d does not exist in month %d%s", date.day(), date.month(),
                                   unknown_year ? "" : absl::StrCat(" of ", year)));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> FromDate(const type::v1::Date& date, absl::string_view field,
                                        const DateRules& rules) {
  DateRules with_year = rules;
  with_year.allow_unknown_year = false;
  if (absl::Status valid = ValidateDate(date, field, with_year); !valid.ok()) return valid;
  return absl::CivilDay(date.year(), date.month(), date.day());
}

absl::CivilDay ToCivilDay(const type::v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

type::v1::Date ToDate(absl::CivilDay day) {
  type::v1::Date out;
  out.set_year(static_cast<int32_t>(day.year()));
  out.set_month(day.month());
  out.set_day(day.day());
  return out;
}

}  // namespace kelola::time
