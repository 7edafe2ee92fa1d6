#pragma once

// What every directory use case does the same way: instants as the database keeps them,
// not-found and field errors with their machine-readable reasons.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::customer::app {

// Instants the service made (`now`, stored values), to microseconds as the database keeps
// them. Timestamps from requests go through time::FromTimestamp, which checks the range.
inline google::protobuf::Timestamp ToProto(absl::Time t) {
  return time::TimestampFromUnixMicros(absl::ToUnixMicros(t));
}

inline absl::Time FromProto(const google::protobuf::Timestamp& t) { return time::ToTime(t); }

inline absl::Status NotFound(absl::string_view reason, absl::string_view what,
                             absl::string_view id_key, absl::string_view id) {
  return errors::Error(absl::StatusCode::kNotFound, reason, absl::StrCat(what, " not found"),
                       {{std::string(id_key), std::string(id)}});
}

inline absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  errors::FieldErrors e;
  e.Add(std::string(field), std::string(description));
  return e.ToStatus();
}

}  // namespace kelola::customer::app
