#include "libs/time/time.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"

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

bool InRange(int64_t seconds, int32_t nanos) {
  return seconds >= kMinTimestampSeconds && seconds <= kMaxTimestampSeconds && nanos >= 0 &&
         nanos <= kMaxTimestampNanos;
}

void WarnOnce(const google::protobuf::Message& root, int64_t seconds, int32_t nanos) {
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  log::Warn("stored timestamp outside the protobuf range clamped (warned once)",
            {{"message", root.GetDescriptor()->full_name()},
             {"seconds", absl::StrCat(seconds)},
             {"nanos", absl::StrCat(nanos)}});
}

bool ClampMessage(google::protobuf::Message* message, const google::protobuf::Message& root);

// A Timestamp (generated or dynamic), clamped through reflection.
bool ClampTimestamp(google::protobuf::Message* ts, const google::protobuf::Message& root) {
  const auto* d = ts->GetDescriptor();
  const auto* seconds_field = d->FindFieldByNumber(1);
  const auto* nanos_field = d->FindFieldByNumber(2);
  const auto* r = ts->GetReflection();
  const int64_t seconds = r->GetInt64(*ts, seconds_field);
  const int32_t nanos = r->GetInt32(*ts, nanos_field);
  if (InRange(seconds, nanos)) return false;
  WarnOnce(root, seconds, nanos);
  google::protobuf::Timestamp given;
  given.set_seconds(seconds);
  given.set_nanos(nanos);
  const google::protobuf::Timestamp clamped = ToTimestamp(ToTime(given));
  r->SetInt64(ts, seconds_field, clamped.seconds());
  r->SetInt32(ts, nanos_field, clamped.nanos());
  return true;
}

// An Any whose type this binary knows: unpacked, clamped and packed again when changed.
bool ClampAny(google::protobuf::Message* any, const google::protobuf::Message& root) {
  const auto* d = any->GetDescriptor();
  const auto* r = any->GetReflection();
  const std::string url = r->GetString(*any, d->FindFieldByNumber(1));
  const size_t slash = url.rfind('/');
  const std::string type = slash == std::string::npos ? url : url.substr(slash + 1);
  const auto* type_descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (type_descriptor == nullptr) return false;
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type_descriptor);
  if (prototype == nullptr) return false;
  std::unique_ptr<google::protobuf::Message> inner(prototype->New());
  if (!inner->ParseFromString(r->GetString(*any, d->FindFieldByNumber(2)))) return false;
  if (!ClampMessage(inner.get(), root)) return false;
  r->SetString(any, d->FindFieldByNumber(2), inner->SerializeAsString());
  return true;
}

bool ClampIn(google::protobuf::Message* message, const google::protobuf::Message& root);

bool ClampMessage(google::protobuf::Message* message, const google::protobuf::Message& root) {
  const std::string& name = message->GetDescriptor()->full_name();
  if (name == "google.protobuf.Timestamp") return ClampTimestamp(message, root);
  if (name == "google.protobuf.Any") return ClampAny(message, root);
  return ClampIn(message, root);
}

// Whether a message of type `type` can hold a Timestamp or an Any anywhere inside it: a
// search of the types its message fields reach. The answers for compiled-in types are kept
// per thread (stored records are read by many threads; a Customer reaches a handful of
// types, most without times, so their fields are not walked at every read). Types of other
// pools (dynamic messages) are searched every time: a pool may go and its addresses be
// reused.
bool ReachesTimes(const google::protobuf::Descriptor* type) {
  thread_local absl::flat_hash_map<const google::protobuf::Descriptor*, bool> known;
  const bool generated = type->file()->pool() == google::protobuf::DescriptorPool::generated_pool();
  if (auto it = known.find(type); generated && it != known.end()) return it->second;
  std::vector<const google::protobuf::Descriptor*> pending = {type};
  absl::flat_hash_set<const google::protobuf::Descriptor*> seen = {type};
  bool reaches = false;
  while (!pending.empty() && !reaches) {
    const google::protobuf::Descriptor* d = pending.back();
    pending.pop_back();
    if (d->full_name() == "google.protobuf.Timestamp" || d->full_name() == "google.protobuf.Any") {
      reaches = true;
      break;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = d->field(i);
      if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (seen.insert(f->message_type()).second) pending.push_back(f->message_type());
    }
  }
  if (generated) known.emplace(type, reaches);
  return reaches;
}

bool ClampIn(google::protobuf::Message* message, const google::protobuf::Message& root) {
  const auto* d = message->GetDescriptor();
  const auto* r = message->GetReflection();
  bool changed = false;
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE ||
        !ReachesTimes(f->message_type())) {
      continue;
    }
    if (f->is_repeated()) {
      for (int j = 0; j < r->FieldSize(*message, f); ++j) {
        changed |= ClampMessage(r->MutableRepeatedMessage(message, f, j), root);
      }
    } else if (r->HasField(*message, f)) {
      changed |= ClampMessage(r->MutableMessage(message, f), root);
    }
  }
  return changed;
}

}  // namespace

bool ClampStoredTimestamps(google::protobuf::Message* message) {
  return ClampMessage(message, *message);
}

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
  const absl::Time t = absl::FromUnixMicros(micros);
  if (t < MinTime() || t > MaxTime()) {
    google::protobuf::Timestamp given;  // for the warning only
    given.set_seconds(micros / 1000000);
    WarnOnce(given, given.seconds(), 0);
  }
  return ToTimestamp(t);
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

absl::StatusOr<absl::TimeZone> LoadTenantTimeZone(const std::string& name) {
  absl::TimeZone zone;
  if (absl::LoadTimeZone(name, &zone)) return zone;
  static const auto* const kOffsetHours = new std::map<std::string, int>{{"Asia/Jakarta", 7},
                                                                         {"Asia/Pontianak", 7},
                                                                         {"Asia/Bangkok", 7},
                                                                         {"Asia/Makassar", 8},
                                                                         {"Asia/Jayapura", 9}};
  auto it = kOffsetHours->find(name);
  if (it != kOffsetHours->end()) return absl::FixedTimeZone(it->second * 3600);
  return absl::InternalError(absl::StrCat("the tenant's time zone cannot be loaded: ", name));
}

}  // namespace kelola::time
