#include "libs/request_id/request_id.h"

#include "absl/strings/str_cat.h"

namespace kelola::request_id {

std::string Problem(absl::string_view id, Presence presence) {
  if (id.empty()) {
    return presence == Presence::kRequired
               ? absl::StrCat("required: 1-", kMaxChars, " visible ASCII characters")
               : "";
  }
  if (id.size() > kMaxChars) {
    return absl::StrCat("at most ", kMaxChars, " characters (got ", id.size(), ")");
  }
  for (const char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return "visible ASCII characters only (letters, digits, punctuation; no spaces or "
             "control characters)";
    }
  }
  return "";
}

void Check(errors::FieldErrors& errors, absl::string_view id, Presence presence,
           absl::string_view field) {
  std::string problem = Problem(id, presence);
  if (!problem.empty()) errors.Add(std::string(field), std::move(problem));
}

absl::Status Validate(absl::string_view id, Presence presence, absl::string_view field) {
  errors::FieldErrors errors;
  Check(errors, id, presence, field);
  return errors.ToStatus();
}

}  // namespace kelola::request_id
