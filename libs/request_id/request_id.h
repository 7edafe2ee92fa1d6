#pragma once

// The one rule for the idempotency keys of writes (AIP-155) in every service: request_id
// and the other client-chosen operation ids (seal_id, merge_operation_id, an import's
// request_id). A key is 1–100 visible ASCII characters (0x21–0x7E: letters, digits and
// punctuation; no spaces, no control characters), so that a UUID, a ULID or any
// client-made "order-2026-05-01#17" fits, and nothing reaches an index or a log that a
// database or terminal would mangle (NUL, invalid UTF-8, 1 MiB). Where a service makes the
// key optional (customer-svc), an empty key means "not idempotent".

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/errors/errors.h"

namespace kelola::request_id {

inline constexpr size_t kMaxChars = 100;

enum class Presence { kOptional, kRequired };

// Why `id` is not a valid key ("" when it is). An empty id is valid only when optional.
std::string Problem(absl::string_view id, Presence presence);

// Adds a violation naming `field` when `id` is not a valid key.
void Check(errors::FieldErrors& errors, absl::string_view id, Presence presence,
           absl::string_view field = "request_id");

// OK, or INVALID_ARGUMENT (reason INVALID_ARGUMENT) naming `field`.
absl::Status Validate(absl::string_view id, Presence presence,
                      absl::string_view field = "request_id");

}  // namespace kelola::request_id
